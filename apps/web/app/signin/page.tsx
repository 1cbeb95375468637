import { SignInForm } from "../../src/components/SignInForm.tsx";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string; error?: string }> }) {
  const sp = await searchParams;
  return <SignInForm next={sp.next ?? "/"} error={sp.error === "throttled" ? "throttled" : sp.error === "1" ? "invalid" : false} />;
}
