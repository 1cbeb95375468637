/** fast-check generators shared by the agent's fuzz tests, and how long each property runs. */
import fc from "fast-check";

/**
 * Runs per property: bounded so each fuzz file takes a few seconds in `npm test`. FUZZ_RUNS=<n> runs longer locally
 * (a failure prints its seed either way).
 */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS) || 300;

/** An RFC 9110 token: what Node's parser accepts as a header name. */
export const headerName = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}$/);

/** A field value Node accepts (visible ASCII, spaces and tabs inside; no CR/LF/NUL). */
export const headerValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e\t]{0,30}[\x21-\x7e])?$|^$/);

/** A DNS label, as service names are. */
export const serviceName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

/** The same string with each ASCII letter's case chosen at random. */
export function randomCase(s: string): fc.Arbitrary<string> {
  return fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(""));
}
