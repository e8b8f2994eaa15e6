import { describe, expect, it } from 'vitest';
import { withoutSecrets } from '../../../src/setup/secrets.js';

describe('secret variables', () => {
  const env = {
    PATH: '/usr/bin', KEA_CONF_DIR: '/etc/kea', KEA_KNOT_HA_SECRET: 's', KEA_KNOT_HA_SECRET_FILE: '/run/secrets/ha',
    KEA_KNOT_API_TOKEN_FILE: '/run/secrets/api', SOME_PASSWORD: 'p', KEA_KNOT_SECRETS_DIR_NOT: 'x',
  };

  it('drops names ending in _SECRET, _TOKEN or _PASSWORD (or those plus _FILE), keeps the rest', () => {
    expect(withoutSecrets(env)).toEqual({ PATH: '/usr/bin', KEA_CONF_DIR: '/etc/kea', KEA_KNOT_SECRETS_DIR_NOT: 'x' });
  });

  it('keeps the secrets a service lists', () => {
    expect(withoutSecrets(env, ['KEA_KNOT_HA_SECRET', 'KEA_KNOT_HA_SECRET_FILE'])).toEqual({
      PATH: '/usr/bin', KEA_CONF_DIR: '/etc/kea', KEA_KNOT_HA_SECRET: 's', KEA_KNOT_HA_SECRET_FILE: '/run/secrets/ha', KEA_KNOT_SECRETS_DIR_NOT: 'x',
    });
  });
});
