// Container health check: calls grpc.health.v1.Health/Check on the server's own port and exits 0
// only when the overall status is SERVING. Health is served without the bearer token; with TLS the
// certificate is not verified (the check only asks whether this process answers).
'use strict';
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');

const port = process.env.SUPERNETD_PORT || '50051';
const tls = Boolean(process.env.SUPERNETD_TLS_CERT && fs.existsSync(process.env.SUPERNETD_TLS_CERT));
const credentials = tls
  ? grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false })
  : grpc.credentials.createInsecure();
const client = new grpc.Client(`127.0.0.1:${port}`, credentials);
const deadline = Date.now() + Number(process.env.SUPERNETD_HEALTHCHECK_TIMEOUT_MS || 3000);
// HealthCheckRequest{service: ""} encodes to zero bytes; HealthCheckResponse{status: SERVING (1)}
// encodes to the two bytes 0x08 0x01.
client.makeUnaryRequest(
  '/grpc.health.v1.Health/Check',
  (b) => b,
  (b) => b,
  Buffer.alloc(0),
  new grpc.Metadata(),
  { deadline },
  (err, res) => {
    client.close();
    if (err) {
      console.error(`health check failed: ${err.message}`);
      process.exit(1);
    }
    const status = res.length >= 2 && res[0] === 0x08 ? res[1] : 0;
    if (status !== 1) {
      console.error(`health check: status ${status}, want SERVING (1)`);
      process.exit(1);
    }
    process.exit(0);
  },
);
