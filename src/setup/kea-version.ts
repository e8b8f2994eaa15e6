import { runCommand } from '../supervisor/run-command.js';

/**
 * What a generated configuration may use, by the Kea series that will run it (2.2 in the
 * tests here, 2.6 and 3.0 in the images): one code path with these switches.
 */
export interface KeaFeatures {
  /** The series, e.g. "3.0". */
  readonly series: string;
  /** ddns-conflict-resolution-mode (2.6); ddns-use-conflict-resolution is deprecated there. */
  readonly conflictResolutionMode: boolean;
  /** TSIG secret-file and HA basic-auth-password-file (2.6): inline secrets are fatal from 3.1. */
  readonly secretFiles: boolean;
  /**
   * kea-dhcp4's own HTTP control socket (3.0): the HA peers talk to it directly, so the
   * deprecated control agent (and the Python it needs) is not used.
   */
  readonly ownHttpSocket: boolean;
  /** A pool's `client-classes` list (3.0); `client-class` is deprecated there. */
  readonly classesList: boolean;
  /**
   * KEA_DHCP_DATA_DIR names where kea-dhcp6 keeps its server DUID. Kea reads it from
   * 2.6.3; "2.6" here means that release or later, as the images' Debian and Alpine
   * packages are. Before, only `data-directory` in the configuration does.
   */
  readonly dataDirFromEnv: boolean;
}

/** The series of a `kea-dhcp4 -v` answer ("2.6.3", "3.0.4-isc..."), or undefined. */
export function parseKeaSeries(text: string): string | undefined {
  return /^\s*(\d+\.\d+)\.\d+/.exec(text)?.[1];
}

export function keaFeatures(series: string): KeaFeatures {
  const [major = 0, minor = 0] = series.split('.').map(Number);
  const atLeast = (a: number, b: number) => major > a || (major === a && minor >= b);
  return { series, conflictResolutionMode: atLeast(2, 6), secretFiles: atLeast(2, 6), ownHttpSocket: atLeast(3, 0), classesList: atLeast(3, 0), dataDirFromEnv: atLeast(2, 6) };
}

/** The series of the kea-dhcp4 on PATH, or undefined when it cannot be run. */
export async function installedKeaSeries(): Promise<string | undefined> {
  const result = await runCommand(['kea-dhcp4', '-v'], { timeoutMs: 10_000 });
  return result.code === 0 ? parseKeaSeries(result.output) : undefined;
}
