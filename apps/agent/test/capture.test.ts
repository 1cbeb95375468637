/** Capture mode's pure parts: the iptables rules, their removal, the init step's flags, the HTTP sniff. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCaptureArgs } from "../src/capture/flags.ts";
import { looksLikeHttp, whyNotHttp } from "../src/capture/front.ts";
import { captureRestoreInput, captureRuleArgs, removalArgs } from "../src/capture/rules.ts";

const spec = {
  outboundPort: 15001,
  inboundPort: 15006,
  proxyUid: 1337,
  adminPort: 15020,
  excludeOutboundPorts: [5432, 22, 22],
  excludeInboundPorts: [22],
};

test("capture rules: proxy UID and loopback leave first, excluded ports next, then REDIRECT; inbound keeps its own, admin and excluded ports", () => {
  assert.equal(
    captureRestoreInput(spec),
    [
      "*nat",
      ":TRELLIS_OUTPUT - [0:0]",
      ":TRELLIS_INBOUND - [0:0]",
      "-A TRELLIS_OUTPUT -p tcp -m owner --uid-owner 1337 -j RETURN",
      "-A TRELLIS_OUTPUT -p tcp -d 127.0.0.0/8 -j RETURN",
      "-A TRELLIS_OUTPUT -p tcp --dport 22 -j RETURN",
      "-A TRELLIS_OUTPUT -p tcp --dport 5432 -j RETURN",
      "-A TRELLIS_OUTPUT -p tcp -j REDIRECT --to-ports 15001",
      "-A TRELLIS_INBOUND -p tcp --dport 15006 -j RETURN",
      "-A TRELLIS_INBOUND -p tcp --dport 22 -j RETURN",
      "-A TRELLIS_INBOUND -p tcp --dport 15020 -j RETURN",
      "-A TRELLIS_INBOUND -p tcp -j REDIRECT --to-ports 15006",
      "-A OUTPUT -p tcp -j TRELLIS_OUTPUT",
      "-A PREROUTING -p tcp -j TRELLIS_INBOUND",
      "COMMIT",
      "",
    ].join("\n"),
  );
  const noAdmin = captureRuleArgs({ ...spec, adminPort: null, excludeInboundPorts: [15006] }).map((r) => r.join(" "));
  assert.ok(!noAdmin.some((r) => r.includes("15020")));
  assert.equal(noAdmin.filter((r) => r.includes("--dport 15006")).length, 1, "the inbound port is returned once");
});

test("capture removal: only our jumps and chains, from what `iptables -t nat -S` prints; nothing when absent", () => {
  const save = [
    "-P PREROUTING ACCEPT",
    "-P OUTPUT ACCEPT",
    "-N DOCKER",
    "-N TRELLIS_INBOUND",
    "-N TRELLIS_OUTPUT",
    "-A PREROUTING -p tcp -j TRELLIS_INBOUND",
    "-A OUTPUT -d 10.0.0.0/8 -j DOCKER",
    "-A OUTPUT -p tcp -j TRELLIS_OUTPUT",
    "-A TRELLIS_OUTPUT -p tcp -j REDIRECT --to-ports 15001",
  ].join("\n");
  assert.deepEqual(removalArgs(save), [
    ["-D", "PREROUTING", "-p", "tcp", "-j", "TRELLIS_INBOUND"],
    ["-D", "OUTPUT", "-p", "tcp", "-j", "TRELLIS_OUTPUT"],
    ["-F", "TRELLIS_INBOUND"],
    ["-X", "TRELLIS_INBOUND"],
    ["-F", "TRELLIS_OUTPUT"],
    ["-X", "TRELLIS_OUTPUT"],
  ]);
  assert.deepEqual(removalArgs("-P PREROUTING ACCEPT\n-P OUTPUT ACCEPT\n-N DOCKER\n"), []);
});

test("init-capture flags: ports and UID required and checked, lists parsed, --remove needs nothing else", () => {
  const { spec: s } = parseCaptureArgs(
    "--outbound-port 15001 --inbound-port 15006 --proxy-uid 1337 --admin-port 15020 --exclude-outbound-ports 22,5432 --exclude-inbound-ports 22".split(
      " ",
    ),
  );
  assert.deepEqual(s, { ...spec, excludeOutboundPorts: [22, 5432] });
  assert.deepEqual(parseCaptureArgs(["--remove"]), { dryRun: false, spec: null });
  assert.throws(() => parseCaptureArgs(["--outbound-port", "15001", "--inbound-port", "15006"]), /--proxy-uid is required/);
  assert.throws(() => parseCaptureArgs("--outbound-port 15001 --inbound-port 15006 --proxy-uid 0".split(" ")), /non-root/);
  assert.throws(() => parseCaptureArgs("--outbound-port 99999 --inbound-port 15006 --proxy-uid 1".split(" ")), /not a port/);
  assert.throws(() => parseCaptureArgs("--outbound-port 1 --inbound-port 2 --proxy-uid 1 --exclude-outbound-ports 22,x".split(" ")), /not a port/);
});

test("capture sniff: HTTP/1 request lines pass; TLS, the HTTP/2 preface, binary and lower-case text do not", () => {
  for (const ok of ["GET / HTTP/1.1\r\n", "POST /x HTTP/1.1\r\n", "PRIVATE / HTTP/1.1", "OPT"]) assert.ok(looksLikeHttp(Buffer.from(ok)), ok);
  const nos = [
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "PRI * HT",
    "\x16\x03\x01\x02\x00",
    "SSH-2.0-OpenSSH\r\n",
    "get / HTTP/1.1",
    " GET /",
    "\x00\x00\x00\x08\x04\xd2\x16\x2f",
  ];
  for (const no of nos) assert.ok(!looksLikeHttp(Buffer.from(no, "latin1")), JSON.stringify(no));
  assert.match(whyNotHttp(Buffer.from([0x16, 3, 1])), /TLS/);
  assert.match(whyNotHttp(Buffer.from("PRI * HTTP/2.0\r\n")), /HTTP\/2/);
  assert.match(whyNotHttp(null), /server-speaks-first/);
});
