/** The sign-in form: a plain HTML form POST (works before any script loads); the server sets the session cookie. */
export function SignInForm({ next, error }: { next: string; error: false | "invalid" | "throttled" }) {
  return (
    <div className="signin" data-testid="signin">
      <h1>Sign in to Trellis</h1>
      {error && (
        <p className="error" data-testid="signin-error">
          {error === "throttled" ? "Too many failed sign-ins. Try again later." : "Invalid username or password."}
        </p>
      )}
      <form method="post" action="/api/auth/signin" className="signin-form">
        <input type="hidden" name="next" value={next} />
        <label>
          Username
          <input name="username" autoComplete="username" required data-testid="signin-username" />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required data-testid="signin-password" />
        </label>
        <button type="submit" data-testid="signin-submit">
          Sign in
        </button>
      </form>
    </div>
  );
}
