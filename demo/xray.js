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
// The relay answers the SDK's sampling calls with one rule that records every request (the
// pipeline archives everything and samples for X-Ray itself). Until the SDK's first rule poll
// succeeds, or if it cannot use the rule, it falls back to its local rules, by default 1 request/s
// + 5 %, which would starve the archive; so the local fallback records everything too.
AWSXRay.middleware.setSamplingRules({ version: 2, rules: [], default: { fixed_target: 1, rate: 1.0 } });
if (process.env.DEMO_DYNAMIC_NAMING) {
  AWSXRay.middleware.enableDynamicNaming(process.env.DEMO_DYNAMIC_NAMING);
}
AWSXRay.captureHTTPsGlobal(require('http'));

module.exports = AWSXRay;
