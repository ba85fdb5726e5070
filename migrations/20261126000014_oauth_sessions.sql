-- A verified OAuth callback proves the merchant, so it opens a dashboard session too: such a
-- session belongs to no admin token.
alter table admin_session alter column token_id drop not null;
