import ipaddr from 'ipaddr.js';

/** An IPv4 address as a number, and back (for subnets, ranges and halves of pools). */
export function toInt(address: string): number {
  return ipaddr.IPv4.parse(address).toByteArray().reduce((n, byte) => n * 256 + byte, 0);
}

export function fromInt(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
