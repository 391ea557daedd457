import { useState } from "preact/hooks";
import { get, send, setToken } from "../api";
import { ErrorBox } from "../components/common";

/** A user logs in with username and password; a first setup pastes the API key (or an API token). */
export function LoginPage() {
  const [mode, setMode] = useState<"user" | "key">("user");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      if (mode === "user") {
        const { token } = await send<{ token: string }>("POST", "/api/v1/auth/login", {
          username: String(form.get("username") ?? ""),
          password: String(form.get("password") ?? ""),
        });
        setToken(token);
      } else {
        setToken(String(form.get("key") ?? "").trim());
        await get("/api/v1/auth/me").catch((err) => {
          setToken(null);
          throw err;
        });
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <h1>Outpost console</h1>
      <form onSubmit={submit} aria-label="Log in">
        <fieldset class="switch">
          <legend>Log in with</legend>
          <label>
            <input type="radio" name="mode" checked={mode === "user"} onChange={() => setMode("user")} /> User
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === "key"} onChange={() => setMode("key")} /> API
            key or token
          </label>
        </fieldset>
        {mode === "user" ? (
          <>
            <label>
              Username
              <input name="username" autocomplete="username" required />
            </label>
            <label>
              Password
              <input name="password" type="password" autocomplete="current-password" required />
            </label>
          </>
        ) : (
          <label>
            API key or token
            <input name="key" type="password" autocomplete="off" required />
          </label>
        )}
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
