// Kubeflow Katib's manager API (vendored in third_party/katib), as `@supernetd/api/katib`: a
// subpath of its own, since its message names (Experiment, Metric, ...) repeat supernetd's.
export * from './gen/katib/v1beta1/api_pb.ts';
export * from './gen/katib/health/health_pb.ts';
