/**
 * Where the daemons' files live. The same variables are read by services.d (through
 * interpolation) and by `kea-knot setup`, so the two always agree; the defaults are the
 * distributions' own paths (Kea 2.6.3 accepts only these for leases, sockets and logs).
 */
export const PATH_VARIABLES = {
  KEA_CONF_DIR: '/etc/kea',
  KEA_RUN_DIR: '/run/kea',
  KEA_LIB_DIR: '/var/lib/kea',
  KNOT_CONF_DIR: '/etc/knot',
  KNOT_RUN_DIR: '/run/knot',
  KNOT_LIB_DIR: '/var/lib/knot',
} as const;

export type Paths = { readonly [K in keyof typeof PATH_VARIABLES]: string };

export function pathsFrom(env: NodeJS.ProcessEnv): Paths {
  const entries = Object.entries(PATH_VARIABLES).map(([name, fallback]) => [name, env[name] || fallback]);
  return Object.fromEntries(entries) as Paths;
}

/** Every file and socket name derived from the directories, in one place. */
export function filesOf(paths: Paths) {
  return {
    dhcp4Conf: `${paths.KEA_CONF_DIR}/kea-dhcp4.conf`,
    dhcp6Conf: `${paths.KEA_CONF_DIR}/kea-dhcp6.conf`,
    ddnsConf: `${paths.KEA_CONF_DIR}/kea-dhcp-ddns.conf`,
    agentConf: `${paths.KEA_CONF_DIR}/kea-ctrl-agent.conf`,
    // kea-knot's reservations (the store), and the Kea list made from it that kea-dhcp4.conf includes.
    reservationsStore: `${paths.KEA_CONF_DIR}/kea-knot-reservations.json`,
    reservations4: `${paths.KEA_CONF_DIR}/reservations4.json`,
    // Secrets Kea 2.6+ reads from files (inline ones are fatal from 3.1): mode 0600.
    tsigSecret: `${paths.KEA_CONF_DIR}/kea-knot-ddns.tsig`,
    haPassword: `${paths.KEA_CONF_DIR}/kea-ha.password`,
    knotConf: `${paths.KNOT_CONF_DIR}/knot.conf`,
    dhcp4Socket: `${paths.KEA_RUN_DIR}/kea4-ctrl-socket`,
    dhcp6Socket: `${paths.KEA_RUN_DIR}/kea6-ctrl-socket`,
    ddnsSocket: `${paths.KEA_RUN_DIR}/kea-ddns-ctrl-socket`,
    knotSocket: `${paths.KNOT_RUN_DIR}/knot.sock`,
    leases4: `${paths.KEA_LIB_DIR}/kea-leases4.csv`,
    leases6: `${paths.KEA_LIB_DIR}/kea-leases6.csv`,
    zonesDir: `${paths.KNOT_LIB_DIR}/zones`,
  };
}
