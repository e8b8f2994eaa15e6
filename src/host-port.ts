/** "host:port", the host a name, an IPv4 address or a bracketed IPv6 address. */
export const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):\d{1,5}$/;

/** Splits a HOST_PORT text; the brackets of an IPv6 host are taken off. */
export function parseHostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(text.slice(at + 1)) };
}
