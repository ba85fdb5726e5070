//! The private Postgres that shoprecs runs when no `DATABASE_URL` is given (and that tests use).
//!
//! It finds the installed PostgreSQL server binaries, `initdb`s a cluster into a directory once,
//! and runs it listening only on a Unix socket inside that directory. When the process is root
//! the server runs as the unprivileged `postgres` user, since Postgres refuses to run as root.
//! A second shoprecs process on the same directory (say `shoprecs migrate` while `serve` runs)
//! finds the running server through `postmaster.pid` and shares it instead of starting another.
//!
//! The server is owned by a supervisor thread that lives as long as the handle: the child gets
//! SIGINT (fast shutdown) when that thread ends, so even a crashed shoprecs leaves no server behind.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, Uid, User};

/// Name of the superuser created by `initdb`, used for every connection.
pub const SUPERUSER: &str = "shoprecs";
const PORT: u16 = 5432;
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Tuning knobs that differ between a real server and a throwaway test cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Extra `-c name=value` server settings.
    pub settings: Vec<(String, String)>,
}

impl ClusterOptions {
    /// Throwaway clusters trade durability for speed: they are deleted after the run anyway.
    pub fn for_tests() -> Self {
        let settings = [
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            // Every test database is a template clone written through the WAL; recycle it
            // early instead of letting it grow to the default 1 GB.
            ("max_wal_size", "64MB"),
            ("min_wal_size", "32MB"),
        ];
        Self {
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// A running (or shared) embedded Postgres server.
pub struct EmbeddedPostgres {
    socket_dir: PathBuf,
    port: u16,
    owned: bool,
    stop_tx: Option<mpsc::Sender<()>>,
    supervisor: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedPostgres")
            .field("socket_dir", &self.socket_dir)
            .field("owned", &self.owned)
            .finish()
    }
}

impl EmbeddedPostgres {
    /// Starts the cluster in `cluster_dir` (creating it with `initdb` on first use), or attaches
    /// to the server already running there. Blocks until the server accepts connections.
    pub fn start(cluster_dir: &Path, options: ClusterOptions) -> anyhow::Result<Self> {
        let cluster_dir = absolute(cluster_dir)?;
        if let Some(running) = running_server(&cluster_dir) {
            tracing::info!(cluster = %cluster_dir.display(), "using the embedded Postgres already running on this data directory");
            return Ok(Self {
                socket_dir: running.socket_dir,
                port: running.port,
                owned: false,
                stop_tx: None,
                supervisor: None,
            });
        }
        let bin_dir = find_bin_dir()?;
        let run_as = server_user()?;
        prepare_dir(&cluster_dir, run_as.as_ref())?;
        if !cluster_dir.join("PG_VERSION").exists() {
            initdb(&bin_dir, &cluster_dir, run_as.as_ref())?;
        }
        // The socket lives inside the cluster directory, created after initdb (which wants an
        // empty directory); only the server's user can reach it.
        let socket_dir = cluster_dir.join("run");
        prepare_dir(&socket_dir, run_as.as_ref())?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread_cluster = cluster_dir.clone();
        let thread_socket = socket_dir.clone();
        let supervisor = std::thread::Builder::new()
            .name("embedded-postgres".into())
            .spawn(move || {
                let spawned = spawn_server(
                    &bin_dir,
                    &thread_cluster,
                    &thread_socket,
                    run_as.as_ref(),
                    &options,
                );
                let mut child = match spawned {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let ready = wait_ready(&thread_cluster, &mut child);
                let failed = ready.is_err();
                let _ = ready_tx.send(ready);
                if !failed {
                    // Blocks until asked to stop or until the handle is dropped.
                    let _ = stop_rx.recv();
                }
                stop_child(&mut child);
            })
            .context("Failed to start the embedded Postgres supervisor thread")?;
        ready_rx
            .recv()
            .map_err(|_| anyhow!("the embedded Postgres supervisor ended unexpectedly"))??;
        tracing::info!(cluster = %cluster_dir.display(), "embedded Postgres started");
        Ok(Self {
            socket_dir,
            port: PORT,
            owned: true,
            stop_tx: Some(stop_tx),
            supervisor: Some(supervisor),
        })
    }

    /// Connection options for one database of this server.
    pub fn connect_options(&self, database: &str) -> sqlx::postgres::PgConnectOptions {
        sqlx::postgres::PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(self.port)
            .username(SUPERUSER)
            .database(database)
    }

    /// Whether this process started the server (and so stops it).
    pub fn is_owned(&self) -> bool {
        self.owned
    }

    /// Stops the server (fast shutdown) if this process started it, and waits for it to exit.
    pub fn stop(mut self) {
        self.stop_and_wait();
    }

    fn stop_and_wait(&mut self) {
        if let Some(tx) = self.stop_tx.take() {
            let _ = tx.send(());
        }
        if let Some(supervisor) = self.supervisor.take() {
            let _ = supervisor.join();
            tracing::info!("embedded Postgres stopped");
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop_and_wait();
    }
}

struct RunningServer {
    socket_dir: PathBuf,
    port: u16,
}

/// Reads `postmaster.pid` (pid, data dir, start time, port, socket dir, listen address, shmem
/// key, status) and returns the server if its process is alive and ready.
fn running_server(cluster_dir: &Path) -> Option<RunningServer> {
    let text = fs::read_to_string(cluster_dir.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid: i32 = lines.first()?.trim().parse().ok()?;
    kill(Pid::from_raw(pid), None).ok()?;
    let port: u16 = lines.get(3)?.trim().parse().ok()?;
    let socket_dir = PathBuf::from(lines.get(4)?.trim());
    let ready = lines.get(7).map(|s| s.trim() == "ready").unwrap_or(false);
    ready.then_some(RunningServer { socket_dir, port })
}

/// Looks for `postgres` and `initdb` (and their sibling tools): on PATH, then `pg_config --bindir`, then the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let has_both = |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                // PATH often holds symlinks (/usr/local/bin/postgres -> …/15/bin/postgres);
                // the real directory also has the sibling tools (pg_ctl, pgbench).
                let real = dir.join("postgres").canonicalize().ok();
                return Ok(real
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|d| has_both(d))
                    .unwrap_or(dir));
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_both(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_both(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).ok_or_else(|| {
        anyhow!(
            "PostgreSQL server binaries (postgres, initdb) were not found on PATH, via pg_config, \
             or under /usr/lib/postgresql. Install them (Debian/Ubuntu: `apt-get install postgresql`; \
             Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql`), \
             or set DATABASE_URL to use an existing server."
        )
    })
}

/// The user the server runs as: None for "this process's user"; `postgres` when we are root.
fn server_user() -> anyhow::Result<Option<User>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let user = User::from_name("postgres")
        .context("Failed to look up the `postgres` user")?
        .ok_or_else(|| {
            anyhow!(
                "shoprecs runs as root, and Postgres refuses to: create an unprivileged `postgres` \
                 user (installing the `postgresql` package does) or run shoprecs as another user"
            )
        })?;
    Ok(Some(user))
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(std::env::current_dir()
        .context("Failed to read the working directory")?
        .join(path))
}

fn prepare_dir(dir: &Path, run_as: Option<&User>) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    let Some(user) = run_as else { return Ok(()) };
    // The server user must own the directory and be able to walk down to it.
    nix::unistd::chown(dir, Some(user.uid), Some(user.gid))
        .with_context(|| format!("Failed to give {} to the postgres user", dir.display()))?;
    let mut ancestor = dir.parent();
    while let Some(dir) = ancestor {
        let meta = fs::metadata(dir)?;
        let mode = meta.permissions().mode();
        if meta.uid() != user.uid.as_raw() && mode & 0o001 == 0 {
            tracing::info!(dir = %dir.display(), "letting the postgres user traverse this directory (o+x)");
            fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o001))?;
        }
        ancestor = dir.parent();
    }
    Ok(())
}

fn command(program: PathBuf, run_as: Option<&User>) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    cmd.current_dir("/").env_remove("PGDATA").env("LC_ALL", "C");
    if let Some(user) = run_as {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    cmd
}

fn initdb(bin_dir: &Path, cluster_dir: &Path, run_as: Option<&User>) -> anyhow::Result<()> {
    tracing::info!(cluster = %cluster_dir.display(), "creating the embedded Postgres cluster (initdb)");
    let out = command(bin_dir.join("initdb"), run_as)
        .arg("-D")
        .arg(cluster_dir)
        .args([
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ])
        .output()
        .context("Failed to run initdb")?;
    if !out.status.success() {
        bail!(
            "initdb failed for {}: {}",
            cluster_dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[expect(
    unsafe_code,
    reason = "prctl(PR_SET_PDEATHSIG) must run in the forked child before exec"
)]
fn spawn_server(
    bin_dir: &Path,
    cluster_dir: &Path,
    socket_dir: &Path,
    run_as: Option<&User>,
    options: &ClusterOptions,
) -> anyhow::Result<Child> {
    use std::os::unix::process::CommandExt;
    let log_path = cluster_dir.with_extension("log");
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("Failed to open {}", log_path.display()))?;
    let mut cmd = command(bin_dir.join("postgres"), run_as);
    cmd.arg("-D")
        .arg(cluster_dir)
        .arg("-k")
        .arg(socket_dir)
        .arg("-p")
        .arg(PORT.to_string())
        .args([
            "-c",
            "listen_addresses=",
            "-c",
            "unix_socket_permissions=0700",
        ])
        .args(["-c", "max_connections=300", "-c", "shared_buffers=128MB"]);
    for (name, value) in &options.settings {
        cmd.arg("-c").arg(format!("{name}={value}"));
    }
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: only calls the async-signal-safe prctl(2) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Some(Signal::SIGINT)).map_err(std::io::Error::from)
        });
    }
    cmd.spawn().context("Failed to start postgres")
}

fn wait_ready(cluster_dir: &Path, child: &mut Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "postgres exited during start-up ({status}); see {}",
                cluster_dir.with_extension("log").display()
            );
        }
        if running_server(cluster_dir).is_some() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("postgres did not become ready within {START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn stop_child(child: &mut Child) {
    let pid = Pid::from_raw(child.id() as i32);
    let _ = kill(pid, Signal::SIGINT);
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Immediate shutdown if a fast one did not finish in time.
    let _ = kill(pid, Signal::SIGQUIT);
    let _ = child.wait();
}
