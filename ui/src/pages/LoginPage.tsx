/** Sign-in form; shown whenever /auth/me answers 401. */
import { useState, type FormEvent } from "react";
import { useAuth } from "../api/auth";
import { ApiError, errorMessage } from "../api/client";
import { Icon } from "../components/Icon";
import { Logo } from "../components/Logo";

export function LoginPage() {
  const { login } = useAuth();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!username || !password) {
      setError("Enter your username and password.");
      return;
    }
    setPending(true);
    try {
      await login(username, password);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? "Wrong username or password."
          : err instanceof ApiError && err.status === 429
            ? err.message
            : errorMessage(err),
      );
    } finally {
      setPending(false);
    }
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <div className="login-brand">
          <Logo size={36} />
          <div>
            <h1 id="login-title">Sign in to Sluice</h1>
            <p className="muted">Pipelines, runs and logs in one place.</p>
          </div>
        </div>
        {error && (
          <div className="banner banner-error" role="alert">
            <Icon name="alert" />
            <span>{error}</span>
          </div>
        )}
        <label className="field">
          <span className="field-label">Username</span>
          <input className="input" name="username" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Password</span>
          <input className="input" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
        <p className="login-hint muted">
          First start? <code>sluice standalone</code> printed the <code>admin</code> password once. Scripts use API tokens instead.
        </p>
      </form>
    </main>
  );
}
