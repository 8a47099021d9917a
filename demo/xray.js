// Shared X-Ray setup for both demo services, as in the seed tutorial.
// The SDK reads AWS_XRAY_DAEMON_ADDRESS ("tcp:HOST:PORT udp:HOST:PORT" or "HOST:PORT") and
// sends segments over UDP to the relay, which replaces the X-Ray daemon.
'use strict';
const AWSXRay = require('aws-xray-sdk');

// The EC2/ECS plugins query the instance metadata service (a link-local address). They run in
// the Kubernetes deployment (DEMO_XRAY_PLUGINS=1); locally there is no metadata service.
if (process.env.DEMO_XRAY_PLUGINS === '1') {
  AWSXRay.config([AWSXRay.plugins.EC2Plugin, AWSXRay.plugins.ECSPlugin]);
}
AWSXRay.setContextMissingStrategy('LOG_ERROR');
if (process.env.DEMO_DYNAMIC_NAMING) {
  AWSXRay.middleware.enableDynamicNaming(process.env.DEMO_DYNAMIC_NAMING);
}
AWSXRay.captureHTTPsGlobal(require('http'));

module.exports = AWSXRay;
