import Bowser from "bowser";
import ipaddr from "ipaddr.js";

export interface Device {
  deviceType: string | null;
  platform: string | null;
  browser: string | null;
}

const DEVICE_TYPES = new Set(["mobile", "tablet", "desktop", "tv", "bot"]);

/**
 * Device type (mobile, tablet, desktop, tv, bot, other) and platform (ios, android,
 * web, other) from a user agent, with Bowser. A browser on any OS other than iOS or
 * Android counts as web; an app's own client (okhttp, CFNetwork) as its OS.
 */
export function parseUserAgent(userAgent: string): Device {
  const ua = Bowser.parse(userAgent);
  const type = ua.platform.type ?? "";
  const os = (ua.os.name ?? "").toLowerCase();
  const platform = os === "ios" || os === "ipados" ? "ios" : os === "android" ? "android" : ua.browser.name ? "web" : "other";
  return {
    deviceType: DEVICE_TYPES.has(type) ? type : ua.browser.name ? "desktop" : "other",
    platform,
    browser: ua.browser.name ? ua.browser.name.slice(0, 64) : null,
  };
}

/** A dotted-quad IPv4 or an IPv6 address; legacy IPv4 forms (1.2.3, 0x7f.1, 01.2.3.4) are refused. */
export function isIpAddress(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value) || ipaddr.IPv6.isValid(value);
}

/** An address with its host part zeroed: IPv4 to its /24, IPv6 to its /48 (IPv4-mapped IPv6 counts as IPv4). */
export function anonymizeIp(value: string): string {
  const addr = ipaddr.process(value);
  if (addr.kind() === "ipv4") {
    const o = (addr as ipaddr.IPv4).octets;
    return `${o[0]}.${o[1]}.${o[2]}.0`;
  }
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 3).concat([0, 0, 0, 0, 0]);
  return new ipaddr.IPv6(parts).toString();
}

/**
 * Whether an address is a public one (unicast on the internet): a connection from a private, loopback, link-local or
 * carrier-grade NAT address is a proxy's or a load balancer's, not a buyer's.
 */
export function isPublicAddress(value: string): boolean {
  if (!ipaddr.isValid(value)) return false;
  return ipaddr.process(value).range() === "unicast";
}
