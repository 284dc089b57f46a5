-- updated_at maintenance for the tables that are not synced.

CREATE OR REPLACE FUNCTION private.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION private.touch_updated_at() FROM public;

CREATE OR REPLACE TRIGGER t90_touch_updated_at
BEFORE UPDATE ON public.continuity_scene_states
FOR EACH ROW EXECUTE FUNCTION private.touch_updated_at();

CREATE OR REPLACE TRIGGER t90_touch_updated_at
BEFORE UPDATE ON public.continuity_telemetry
FOR EACH ROW EXECUTE FUNCTION private.touch_updated_at();

CREATE OR REPLACE TRIGGER t90_touch_updated_at
BEFORE UPDATE ON public.credits_ledger
FOR EACH ROW EXECUTE FUNCTION private.touch_updated_at();
