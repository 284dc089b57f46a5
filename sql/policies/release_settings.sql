-- private.release_settings and private.release_channel_daily: the service role changes the
-- canary share and runs the rollup; signed-in users reach neither (their channel comes from
-- public.my_release_channel).

GRANT SELECT, UPDATE ON private.release_settings TO service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON private.release_channel_daily TO service_role;
