// Jest global setup for integration tests: make sure FerretDB, RabbitMQ and Redis are
// up, starting them with the project's own script when they are not.
const { execFileSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

function open(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

module.exports = async function globalSetup() {
  const ports = [27017, 5672, 6379];
  const up = await Promise.all(ports.map(open));
  if (up.every(Boolean)) return;
  const root = path.resolve(__dirname, '../../..');
  execFileSync('bash', [path.join(root, 'scripts/infra'), 'up'], { stdio: 'inherit' });
};
