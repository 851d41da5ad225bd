-- Creates the gold job's identity as a contained database user with least-privilege grants.
-- Run ONCE per environment, in the gold database, by a member of the server's Entra admin group,
-- from a network that reaches the private endpoint (the self-hosted runner), e.g.:
--
--   sqlcmd -S <sqlServerFqdn> -d gold --authentication-method ActiveDirectoryDefault \
--     -v JobUserName="id-rta-prod-weu-processor" JobObjectId="<objectId>" AllowMigrations=0 \
--     -i streaming_jobs/serving/create_job_user.sql
--
-- JobUserName / JobObjectId: the stack output sqlGoldWriter (name, objectId). WITH OBJECT_ID means the
-- server needs no directory-read permission to resolve the name.
-- AllowMigrations: 1 lets the gold job apply pending migrations at start (--sql-migrate apply);
--                  0 (recommended in prod) keeps the job to the upsert only: an admin applies migrations
--                  with `python -m streaming_jobs.serving.migrate` and the job's start-up step then only
--                  reads gold.schema_history and finds nothing pending.
-- Idempotent: every statement checks before it creates or grants.

SET NOCOUNT ON;
SET XACT_ABORT ON;

IF SCHEMA_ID(N'gold') IS NULL EXEC(N'CREATE SCHEMA gold AUTHORIZATION dbo');

IF DATABASE_PRINCIPAL_ID(N'$(JobUserName)') IS NULL
    CREATE USER [$(JobUserName)] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '$(JobObjectId)';

-- The upsert: MERGE (read the target, insert, update) and the batch ledger. No DELETE, no DDL,
-- nothing outside schema gold.
IF DATABASE_PRINCIPAL_ID(N'rta_gold_writer') IS NULL CREATE ROLE rta_gold_writer AUTHORIZATION dbo;
GRANT SELECT, INSERT, UPDATE ON SCHEMA::gold TO rta_gold_writer;
IF IS_ROLEMEMBER(N'rta_gold_writer', N'$(JobUserName)') = 0
    ALTER ROLE rta_gold_writer ADD MEMBER [$(JobUserName)];

-- The start-up migration step: create and alter objects in schema gold only (CREATE TABLE/VIEW are
-- database-level permissions but are usable only in a schema the principal may ALTER).
IF DATABASE_PRINCIPAL_ID(N'rta_gold_migrator') IS NULL CREATE ROLE rta_gold_migrator AUTHORIZATION dbo;
GRANT CREATE TABLE, CREATE VIEW TO rta_gold_migrator;
GRANT ALTER, REFERENCES ON SCHEMA::gold TO rta_gold_migrator;
IF '$(AllowMigrations)' = '1' AND IS_ROLEMEMBER(N'rta_gold_migrator', N'$(JobUserName)') = 0
    ALTER ROLE rta_gold_migrator ADD MEMBER [$(JobUserName)];
IF '$(AllowMigrations)' <> '1' AND IS_ROLEMEMBER(N'rta_gold_migrator', N'$(JobUserName)') = 1
    ALTER ROLE rta_gold_migrator DROP MEMBER [$(JobUserName)];

-- Show the effective grants (review them in the run log).
SELECT pr.name AS principal, pe.permission_name, pe.class_desc, SCHEMA_NAME(pe.major_id) AS on_schema
FROM sys.database_permissions AS pe
JOIN sys.database_principals AS pr ON pr.principal_id = pe.grantee_principal_id
WHERE pr.name IN (N'rta_gold_writer', N'rta_gold_migrator', N'$(JobUserName)');
