-- Every Supabase user gets an app_users row, a credits account keyed by the user's id and a
-- statistics row. Runs as the table owner because the signing-up session cannot write these.

CREATE OR REPLACE FUNCTION private.handle_new_user()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    INSERT INTO public.app_users (id, email)
    VALUES (NEW.id, NEW.email)
    ON CONFLICT (id) DO NOTHING;

    INSERT INTO public.credits_ledger (user_key, user_id)
    VALUES (NEW.id::text, NEW.id)
    ON CONFLICT (user_key) DO NOTHING;

    INSERT INTO public.user_statistics (user_id, email)
    VALUES (NEW.id, NEW.email)
    ON CONFLICT (user_id) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION private.handle_user_email_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    UPDATE public.app_users SET email = NEW.email WHERE id = NEW.id;
    UPDATE public.user_statistics SET email = NEW.email WHERE user_id = NEW.id;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.handle_new_user() FROM public, anon, authenticated;
REVOKE ALL ON FUNCTION private.handle_user_email_change() FROM public, anon, authenticated;

CREATE OR REPLACE TRIGGER on_auth_user_created
AFTER INSERT ON auth.users
FOR EACH ROW EXECUTE FUNCTION private.handle_new_user();

CREATE OR REPLACE TRIGGER on_auth_user_email_changed
AFTER UPDATE OF email ON auth.users
FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email)
EXECUTE FUNCTION private.handle_user_email_change();
