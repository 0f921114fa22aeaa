#pragma once
// A real gRPC client of the scaler, as KEDA's operator is one.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "externalscaler.grpc.pb.h"
#include "prescale/common/snapshot.hpp"

namespace prescale::test {

inline externalscaler::ScaledObjectRef scaled_object(
    const std::string& namespace_name, const std::map<std::string, std::string>& metadata) {
  externalscaler::ScaledObjectRef ref;
  ref.set_name("payments");
  ref.set_namespace_(namespace_name);
  for (const auto& [key, value] : metadata) (*ref.mutable_scalermetadata())[key] = value;
  return ref;
}

inline std::shared_ptr<const Snapshot> snapshot_with(const std::string& metric,
                                                     const std::string& namespace_name,
                                                     double value) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->ready = true;
  MetricValue metric_value;
  metric_value.metric = metric;
  metric_value.namespace_name = namespace_name;
  metric_value.value = value;
  metric_value.target = metric;
  snapshot->metrics.push_back(metric_value);
  return snapshot;
}

}  // namespace prescale::test
