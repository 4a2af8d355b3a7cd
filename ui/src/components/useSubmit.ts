/** The state of a form's action: pending while it runs, and what it threw for the form to show. */
import { useState } from "react";

export function useSubmit(action: () => Promise<void>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async () => {
    setPending(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };
  return { submit, pending, error, reset: () => setError(null) };
}
