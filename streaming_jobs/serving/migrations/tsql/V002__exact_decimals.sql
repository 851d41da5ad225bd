-- V002: exact decimals in the serving tables (issue 32).
-- Azure SQL's DECIMAL(p,s) columns (V001) are exact already: nothing changes here. The version exists so
-- both dialects keep one history; ../sqlite/V002__exact_decimals.sql moves SQLite's DECIMAL columns from
-- NUMERIC affinity (stored as 8-byte floats: 1234567767543.2109 read back as 1234567767543.21) to text.

IF SCHEMA_ID(N'gold') IS NULL EXEC(N'CREATE SCHEMA gold');
