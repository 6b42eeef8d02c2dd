import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { z } from "zod";

/**
 * Where outbound webhook requests may go. By default only public unicast addresses: a webhook
 * URL is chosen by a tenant, and without this a tenant could make the workers call the
 * deployment's own services (Postgres, Redis, a cloud metadata endpoint at 169.254.169.254).
 * WEBHOOK_ALLOWED_HOSTS lets chosen names, addresses or CIDR ranges through (tests allow
 * loopback; an operator may allow an internal receiver).
 */
export interface TargetPolicy {
  /** Host names (lower case) allowed whatever they resolve to. */
  hosts: readonly string[];
  /** Addresses and CIDR ranges allowed although private, loopback or link-local. */
  cidrs: readonly string[];
}

export const OPEN_POLICY_NOTE = "private, loopback and link-local addresses are refused";

/** A bare address is a /32 (or /128) range. */
function asCidr(entry: string): string | null {
  if (isIP(entry)) return `${entry}/${isIP(entry) === 4 ? 32 : 128}`;
  try {
    ipaddr.parseCIDR(entry);
    return entry;
  } catch {
    return null;
  }
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `WEBHOOK_ALLOWED_HOSTS`: comma-separated host names, addresses or CIDR ranges (default: none). */
export const ZAllowedHosts = z
  .string()
  .default("")
  .transform((value, ctx): TargetPolicy => {
    const hosts: string[] = [];
    const cidrs: string[] = [];
    for (const raw of value.split(",")) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const cidr = asCidr(entry);
      if (cidr) cidrs.push(cidr);
      else if (/^[0-9.:/]+$/.test(entry) || !HOST_NAME.test(entry)) {
        ctx.addIssue({
          code: "custom",
          message: `"${raw.trim()}" is neither a host name, an address nor a CIDR range`,
        });
      } else hosts.push(entry);
    }
    return { hosts, cidrs };
  });

/** Refuses every non-public address (the default). */
export const PUBLIC_ONLY: TargetPolicy = { hosts: [], cidrs: [] };

/** The URL's host without IPv6 brackets, as sockets and DNS take it. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

/** Whether `address` (an IP) may be called under `policy`: public unicast, or allowed by a range. */
export function isAllowedAddress(address: string, policy: TargetPolicy): boolean {
  const parsed = ipaddr.process(address);
  if (parsed.range() === "unicast") return true;
  return policy.cidrs.some((c) => {
    const range = ipaddr.parseCIDR(c);
    return range[0].kind() === parsed.kind() && parsed.match(range);
  });
}

/**
 * What is wrong with `url` as a webhook target, from the URL alone (null: nothing seen). It
 * catches what can be known before any lookup: scheme, credentials, an address literal outside
 * the policy. A name is checked again on every delivery, against the addresses it resolves to
 * then (send.ts), since DNS can point it anywhere later.
 */
export function targetProblem(url: string, policy: TargetPolicy): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "must be an absolute http(s) URL";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return "must be an http or https URL";
  if (u.username || u.password)
    return "must not contain credentials (receivers verify the signature instead)";
  const host = hostOf(u);
  if (policy.hosts.includes(host)) return null;
  if (isIP(host) && !isAllowedAddress(host, policy)) {
    return `${host} is not a public address (${OPEN_POLICY_NOTE} unless WEBHOOK_ALLOWED_HOSTS allows them)`;
  }
  if (host === "localhost" || host.endsWith(".localhost")) {
    return `${host} is a loopback name (${OPEN_POLICY_NOTE} unless WEBHOOK_ALLOWED_HOSTS allows them)`;
  }
  return null;
}
