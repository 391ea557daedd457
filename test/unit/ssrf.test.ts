import { describe, expect, it } from "vitest";
import { hostDenial, parseIpv4, parseIpv6, webhookUrlDenial } from "../../src/webhooks/ssrf";

const deny = (url: string) => webhookUrlDenial(url, false);

describe("parseIpv4", () => {
  it.each([
    ["127.0.0.1", 0x7f000001],
    ["2130706433", 0x7f000001],
    ["0x7f000001", 0x7f000001],
    ["0x7f.1", 0x7f000001],
    ["0177.0.0.1", 0x7f000001],
    ["0177.1", 0x7f000001],
    ["127.1", 0x7f000001],
    ["127.0.1", 0x7f000001],
    ["0x7F.0.0.0x1", 0x7f000001],
    ["10.0.0.1.", 0x0a000001],
    ["0", 0],
    ["0x", 0], // as the URL parser reads it
    ["4294967295", 0xffffffff],
  ])("reads %s", (text, value) => {
    expect(parseIpv4(text)).toBe(value);
  });

  it.each(["4294967296", "256.0.0.1", "1.2.3.4.5", "1.256.1", "08.0.0.1", "example.com", "1.2.3.x", ""])(
    "refuses %s",
    (text) => {
      expect(parseIpv4(text)).toBeNull();
    },
  );
});

describe("parseIpv6", () => {
  it.each([
    ["::", [0, 0, 0, 0, 0, 0, 0, 0]],
    ["::1", [0, 0, 0, 0, 0, 0, 0, 1]],
    ["[::1]", [0, 0, 0, 0, 0, 0, 0, 1]],
    ["fe80::1:2", [0xfe80, 0, 0, 0, 0, 0, 1, 2]],
    ["1:2:3:4:5:6:7:8", [1, 2, 3, 4, 5, 6, 7, 8]],
    ["::ffff:127.0.0.1", [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ["::ffff:7f00:1", [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ["1::", [1, 0, 0, 0, 0, 0, 0, 0]],
  ])("reads %s", (text, groups) => {
    expect(parseIpv6(text)).toEqual(groups);
  });

  it.each([
    "1:2:3:4:5:6:7",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "::ffff:1.2.3",
    "::g",
    "127.0.0.1",
    "fe80::1%eth0",
  ])("refuses %s", (text) => {
    expect(parseIpv6(text)).toBeNull();
  });
});

describe("hostDenial: address classes", () => {
  it.each([
    ["127.0.0.1", /loopback/],
    ["127.255.255.254", /loopback/],
    ["10.1.2.3", /RFC 1918/],
    ["172.16.0.1", /RFC 1918/],
    ["172.31.255.255", /RFC 1918/],
    ["192.168.1.1", /RFC 1918/],
    ["169.254.1.1", /link-local/],
    ["169.254.169.254", /metadata/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["100.127.255.255", /carrier-grade NAT/],
    ["100.100.100.200", /metadata/],
    ["0.0.0.0", /unspecified/],
    ["0.1.2.3", /unspecified/],
    ["224.0.0.1", /multicast/],
    ["255.255.255.255", /reserved/],
    ["[::1]", /loopback/],
    ["[::]", /unspecified/],
    ["[fe80::1]", /link-local/],
    ["[febf::1]", /link-local/],
    ["[fc00::1]", /unique local/],
    ["[fdff:ffff::1]", /unique local/],
    ["[fd00:ec2::254]", /metadata/],
    ["[::ffff:7f00:1]", /loopback/],
    ["[::ffff:a00:1]", /RFC 1918/],
    ["[::ffff:a9fe:a9fe]", /metadata/],
    ["[::ffff:0:0]", /unspecified/],
    ["[::127.0.0.1]", /loopback/],
    ["[64:ff9b::c0a8:1]", /RFC 1918/],
    ["[2002:7f00:1::]", /loopback/],
    ["[ff02::1]", /multicast/],
  ])("%s is denied", (host, reason) => {
    expect(hostDenial(host)).toMatch(reason);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "11.0.0.1",
    "172.15.255.255",
    "172.32.0.1",
    "192.169.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "169.253.255.255",
    "[2606:4700:4700::1111]",
    "[::ffff:808:808]",
    "[fbff::1]",
    "[2001:db8::1]",
    "example.com",
    "hooks.example.com",
    "localhost.example.com",
    "metadata.example.com",
  ])("%s is allowed", (host) => {
    expect(hostDenial(host)).toBeNull();
  });
});

describe("hostDenial: named hosts", () => {
  it.each([
    "localhost",
    "LOCALHOST",
    "localhost.",
    "api.localhost",
    "a.b.localhost",
    "metadata",
    "metadata.google.internal",
    "metadata.google.internal.",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
  ])("%s is denied", (host) => {
    expect(hostDenial(host)).not.toBeNull();
  });
});

describe("hostDenial: names private by construction (review L3)", () => {
  it.each([
    ["host.docker.internal", /private DNS name \(\*\.internal\)/],
    ["db.internal", /\*\.internal/],
    ["ip-10-0-0-1.ec2.internal", /\*\.internal/],
    ["printer.local", /\*\.local\b/],
    ["api.default.svc.cluster.local", /\*\.local\b/],
    ["kubernetes.default.svc", /\*\.svc/],
    ["router.home.arpa", /home\.arpa/],
    ["nas.lan", /\*\.lan/],
    ["app.localhost", /loopback/],
    ["localtest.me", /loopback/],
    ["api.lvh.me", /loopback/],
    ["redis", /single-label/],
    ["kubernetes", /single-label/],
  ])("%s is denied", (host, reason) => {
    expect(hostDenial(host)).toMatch(reason);
  });

  it.each([
    ["127.0.0.1.nip.io", "loopback address (127.0.0.1)"],
    ["app.10.0.0.1.sslip.io", "RFC 1918) (10.0.0.1)"],
    ["x.169.254.169.254.nip.io", "metadata address (169.254.169.254)"],
    ["10-0-0-1.sslip.io", "RFC 1918) (10.0.0.1)"],
    ["app-192-168-001-010.nip.io", "RFC 1918) (192.168.1.10)"],
    ["1-172-16-0-1.sslip.io", "RFC 1918) (172.16.0.1)"],
    ["magic-7f000001.nip.io", "loopback address (127.0.0.1)"],
    ["0a000001.nip.io", "RFC 1918) (10.0.0.1)"],
    ["--1.sslip.io", "loopback address (::1)"],
    ["fe80--1.sslip.io", "link-local address"],
    ["0.0.0.0.nip.io", "unspecified address"],
  ])("%s embeds a private address", (host, reason) => {
    const denial = hostDenial(host);
    expect(denial).toMatch(/^name embedding a /);
    expect(denial).toContain(reason);
  });

  it.each([
    "8.8.8.8.nip.io",
    "1-1-1-1.sslip.io",
    "deadbeef.example.com",
    "v1-2-3-4.example.com",
    "2024-01-15.example.com",
    "cafe--babe.example.com",
    "internal.example.com",
    "local.example.com",
    "svc.example.com",
    "localhost.example.com",
  ])("%s is allowed", (host) => {
    expect(hostDenial(host)).toBeNull();
  });
});

describe("hostDenial: tunnel and translation prefixes (review L3)", () => {
  it.each([
    ["[2001::1]", /Teredo/],
    ["[2001:0:4136:e378:8000:63bf:3fff:fdd2]", /Teredo/],
    ["[64:ff9b:1::a00:1]", /local-use NAT64/],
    ["[64:ff9b:1:ffff::808:808]", /local-use NAT64/],
  ])("%s is denied", (host, reason) => {
    expect(hostDenial(host)).toMatch(reason);
  });

  it.each(["[2001:db8::1]", "[2001:4860:4860::8888]", "[64:ff9b::808:808]", "[64:ff9b:2::1]"])(
    "%s is allowed",
    (host) => {
      expect(hostDenial(host)).toBeNull();
    },
  );
});

describe("webhookUrlDenial: URL spellings", () => {
  it.each([
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://0177.0.0.01/",
    "http://127.1/",
    "http://127.0.0.1./",
    "https://127.0.0.1:8443/hook?x=1",
    "http://0/",
    "http://0.0.0.0:80/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fd12:3456::1]/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0xa9fea9fe/",
    "http://2852039166/",
    "http://10.0.0.1/",
    "http://0xa.1/",
    "http://192.168.0.1/",
    "http://0300.0250.0.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://localhost/",
    "http://LocalHost:3000/",
    "http://foo.localhost/",
    "http://metadata/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.GOOGLE.INTERNAL./",
    "http://host.docker.internal:8080/hook",
    "https://127.0.0.1.nip.io/",
    "https://10-0-0-1.sslip.io/",
    "http://kubernetes.default.svc/api",
    "http://[2001::1]/",
    "http://[64:ff9b:1::1]/",
  ])("denies %s", (url) => {
    expect(deny(url)).toMatch(/denied .* unless WEBHOOK_ALLOW_PRIVATE_IPS=true/);
  });

  it("names the decoded host and the reason", () => {
    expect(deny("http://0x7f.1/")).toBe(
      'host "127.0.0.1" is denied (loopback address) unless WEBHOOK_ALLOW_PRIVATE_IPS=true',
    );
  });

  it.each([
    "https://example.com/edge-events",
    "http://example.com:8080/",
    "https://8.8.8.8/",
    "https://[2606:4700:4700::1111]/",
    "https://hooks.slack.com/services/T000/B000/XXX",
    "https://8.8.8.8.nip.io/",
    "https://hooks-203-0-113-9.example.com/",
  ])("allows %s", (url) => {
    expect(deny(url)).toBeNull();
  });

  it("allows everything when WEBHOOK_ALLOW_PRIVATE_IPS is on", () => {
    expect(webhookUrlDenial("http://127.0.0.1:9999/", true)).toBeNull();
    expect(webhookUrlDenial("http://metadata.google.internal/", true)).toBeNull();
  });

  it("reports an unparsable URL instead of throwing", () => {
    expect(deny("not a url")).toBe("must be an absolute http(s) URL");
  });
});
