package dev.supernetd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.supernetd.examples.SearchLoop;
import dev.supernetd.v1.ErrorReason;
import dev.supernetd.v1.Experiment;
import dev.supernetd.v1.ExperimentSpec;
import dev.supernetd.v1.ExperimentState;
import dev.supernetd.v1.ExportSubnetRequest;
import dev.supernetd.v1.MetricRecord;
import dev.supernetd.v1.ReportMetricRequest;
import dev.supernetd.v1.ReportMetricResponse;
import dev.supernetd.v1.SampleSubnetRequest;
import dev.supernetd.v1.SearchSpace;
import dev.supernetd.v1.StrategySpec;
import dev.supernetd.v1.SupernetServiceGrpc;
import dev.supernetd.v1.TrainRequest;
import dev.supernetd.v1.TrainResponse;
import dev.supernetd.v1.TrainStepRequest;
import dev.supernetd.v1.TrainingConfig;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SupernetdClientTest {
  private static String serverAddress() {
    String addr = System.getenv("SUPERNETD_ADDR");
    if (addr == null || addr.isEmpty()) {
      if (System.getenv("SUPERNETD_REQUIRE_SERVER") != null) fail("SUPERNETD_ADDR is not set");
      assumeTrue(false, "SUPERNETD_ADDR is not set; run clients/run-tests.sh");
    }
    return addr;
  }

  /** A client of the harness's server: address, token and CA from the environment. */
  private static SupernetdClient connect() {
    serverAddress();
    return SupernetdClient.fromEnv();
  }

  @Test
  void searchLoopExportsAModelPerBudget(@TempDir Path out) throws Exception {
    try (SupernetdClient client = connect()) {
      Map<Double, List<Path>> written = SearchLoop.run(client, out, 1, 8, 1);
      assertEquals(1, written.size());
      List<Path> files = written.values().iterator().next();
      assertTrue(files.stream().anyMatch(p -> p.getFileName().toString().equals("model.json")), files.toString());
      for (Path p : files) assertTrue(Files.size(p) > 0, p + " is empty");
    }
  }

  @Test
  void unknownExperimentIsNotFoundWithReason() {
    try (SupernetdClient client = connect()) {
      SupernetdException e = assertThrows(SupernetdException.class, () -> client.getExperiment("no-such-experiment"));
      assertEquals(Status.Code.NOT_FOUND, e.getCode());
      assertEquals(ErrorReason.ERROR_REASON_EXPERIMENT_NOT_FOUND, e.getReason());
      assertTrue(e.getMessage().contains("ERROR_REASON_EXPERIMENT_NOT_FOUND"), e.getMessage());
    }
  }

  @Test
  void streamErrorsCarryTheReason() {
    try (SupernetdClient client = connect()) {
      ExportSubnetRequest req = ExportSubnetRequest.newBuilder()
          .setExperimentId("no-such-experiment").setConstraint(Constraints.flops(1e7)).build();
      SupernetdException e = assertThrows(SupernetdException.class, () -> client.exportSubnet(req));
      assertEquals(ErrorReason.ERROR_REASON_EXPERIMENT_NOT_FOUND, e.getReason());
    }
  }

  @Test
  void errorDetailsAreDecodedFromTheStandardStatus() {
    try (SupernetdClient client = connect()) {
      SupernetdException e = assertThrows(SupernetdException.class, () -> client.getExperiment("no-such-experiment"));
      assertEquals(SupernetdException.ERROR_DOMAIN, e.getDomain());
      assertEquals(Map.of("field", "experiment_id"), e.getMetadata());
      assertFalse(e.getRequestId().isEmpty(), "RequestInfo names the id the server logged the call under");
      String exp = createExperiment(client);
      try {
        SupernetdException big = assertThrows(SupernetdException.class,
            () -> client.sampleSubnet(SampleSubnetRequest.newBuilder().setExperimentId(exp).setCount(65).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, big.getCode());
        assertEquals(ErrorReason.ERROR_REASON_INVALID_ARGUMENT, big.getReason());
        assertEquals(Map.of("field", "count", "limitValue", "64"), big.getMetadata());
        assertEquals(1, big.getFieldViolations().size());
        assertEquals("count", big.getFieldViolations().get(0).getField());
        assertEquals(big.getServerMessage(), big.getFieldViolations().get(0).getDescription());
      } finally {
        client.deleteExperiment(exp);
      }
    }
  }

  @Test
  void trainingWhileATrainStreamRunsIsAborted() throws Exception {
    try (SupernetdClient client = connect()) {
      String exp = createExperiment(client);
      try {
        Context.CancellableContext stream = Context.current().withCancellation();
        try {
          Iterator<TrainResponse> events = stream.call(() -> client.train(
              TrainRequest.newBuilder().setExperimentId(exp).setSteps(100_000).setProgressInterval(1).build()));
          stream.run(events::next); // training is running
          SupernetdException e = assertThrows(SupernetdException.class,
              () -> client.trainStep(TrainStepRequest.newBuilder().setExperimentId(exp).setSteps(1).build()));
          assertEquals(Status.Code.ABORTED, e.getCode());
          assertEquals(ErrorReason.ERROR_REASON_TRAINING_IN_PROGRESS, e.getReason());
        } finally {
          stream.cancel(null);
        }
        while (client.getExperiment(exp).getState() == ExperimentState.EXPERIMENT_STATE_TRAINING) Thread.sleep(100);
      } finally {
        client.deleteExperiment(exp);
      }
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void retryPolicyIsTheServiceConfig() {
    Map<String, ?> config = RetryPolicy.DEFAULT.serviceConfig();
    List<Map<String, ?>> methodConfigs = (List<Map<String, ?>>) config.get("methodConfig");
    assertEquals(1, methodConfigs.size());
    List<String> methods = ((List<Map<String, String>>) methodConfigs.get(0).get("name")).stream().map(n -> n.get("method")).toList();
    assertTrue(methods.containsAll(List.of("ReportMetric", "TrainStep", "CreateExperiment", "DeleteExperiment", "GetExperiment", "SampleSubnet")), methods.toString());
    assertFalse(methods.contains("Train"), "a repeated Train would train again");
    Map<String, ?> policy = (Map<String, ?>) methodConfigs.get(0).get("retryPolicy");
    assertEquals(5.0, policy.get("maxAttempts"));
    assertEquals(List.of("UNAVAILABLE"), policy.get("retryableStatusCodes"));
    assertEquals(List.of(), RetryPolicy.NONE.serviceConfig().get("methodConfig"));
  }

  /**
   * A gRPC server in front of the real one that forwards ReportMetric and, the first time, drops
   * the server's reply and answers UNAVAILABLE: a reply lost after the metric was stored.
   */
  private static final class LossyProxy extends SupernetServiceGrpc.SupernetServiceImplBase {
    final List<String> requestIds = new CopyOnWriteArrayList<>();
    private final SupernetdClient upstream;

    LossyProxy(SupernetdClient upstream) {
      this.upstream = upstream;
    }

    @Override
    public void reportMetric(ReportMetricRequest req, StreamObserver<ReportMetricResponse> out) {
      requestIds.add(req.getRequestId());
      try {
        long sequence = upstream.reportMetric(req);
        if (requestIds.size() == 1) {
          out.onError(Status.UNAVAILABLE.withDescription("the reply was lost").asRuntimeException());
        } else {
          out.onNext(ReportMetricResponse.newBuilder().setSequence(sequence).build());
          out.onCompleted();
        }
      } catch (SupernetdException e) {
        out.onError(Status.fromCode(e.getCode()).withDescription(e.getServerMessage()).asRuntimeException());
      }
    }
  }

  @Test
  void reportMetricRetriedByGrpcIsAppliedOnce() throws Exception {
    try (SupernetdClient direct = connect();
        SupernetdClient upstream = SupernetdClient.builderFromEnv().retryPolicy(RetryPolicy.NONE).build()) {
      String exp = createExperiment(direct);
      LossyProxy proxy = new LossyProxy(upstream);
      Server server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).addService(proxy).build().start();
      try (SupernetdClient lossy = SupernetdClient.builder("127.0.0.1:" + server.getPort()).build()) {
        String subnet = direct.sampleSubnet(exp, null).getId();
        long sequence = lossy.reportMetric(exp, subnet, Map.of("accuracy", 0.5));
        // gRPC retried the call (the service config's retryPolicy) with the same request id
        assertEquals(2, proxy.requestIds.size(), proxy.requestIds.toString());
        assertFalse(proxy.requestIds.get(0).isEmpty());
        assertEquals(proxy.requestIds.get(0), proxy.requestIds.get(1));
        List<MetricRecord> records = direct.listMetrics(exp);
        assertEquals(1, records.size(), "stored once");
        assertEquals(sequence, records.get(0).getSequence(), "answered with its sequence");
        SupernetdException reused = assertThrows(SupernetdException.class, () -> direct.reportMetric(
            ReportMetricRequest.newBuilder().setExperimentId(exp).setSubnetId(subnet).putMetrics("accuracy", 0.9)
                .setRequestId(proxy.requestIds.get(0)).build()));
        assertEquals(Status.Code.ALREADY_EXISTS, reused.getCode());
        assertEquals(ErrorReason.ERROR_REASON_REQUEST_ID_REUSED, reused.getReason());
        assertEquals("request_id", reused.getMetadata().get("field"));
      } finally {
        server.shutdownNow();
        direct.deleteExperiment(exp);
      }
    }
  }

  /** A small experiment (uniform over mbv2-small, batch size 8); the caller deletes it. */
  @Test
  void anExplicitZeroIsSentAndKeptAndAnAbsentFieldTakesTheDefault() {
    try (SupernetdClient client = connect()) {
      ExperimentSpec.Builder spec = ExperimentSpec.newBuilder()
          .setSearchSpace(SearchSpace.newBuilder().setPreset("mbv2-small"))
          .setStrategy(StrategySpec.newBuilder().setId("uniform"));
      Experiment plainExp = client.createExperiment("", spec.clone()
          .setTraining(TrainingConfig.newBuilder().setBatchSize(8).setMomentum(0).setNesterov(false).setWeightDecay(0))
          .build());
      Experiment defaultExp = client.createExperiment("", spec.clone()
          .setTraining(TrainingConfig.newBuilder().setBatchSize(8))
          .build());
      try {
        TrainingConfig plain = plainExp.getSpec().getTraining();
        TrainingConfig byDefault = defaultExp.getSpec().getTraining();
        assertTrue(plain.hasMomentum() && plain.hasNesterov() && plain.hasWeightDecay(), plain.toString());
        assertEquals(0.0, plain.getMomentum());
        assertFalse(plain.getNesterov());
        assertEquals(0.0, plain.getWeightDecay());
        assertEquals(0.9, byDefault.getMomentum());
        assertTrue(byDefault.getNesterov());
        assertEquals(1e-4, byDefault.getWeightDecay());
      } finally {
        client.deleteExperiment(plainExp.getId());
        client.deleteExperiment(defaultExp.getId());
      }
    }
  }

  private static String createExperiment(SupernetdClient client) {
    return client.createExperiment("", ExperimentSpec.newBuilder()
        .setSearchSpace(SearchSpace.newBuilder().setPreset("mbv2-small"))
        .setStrategy(StrategySpec.newBuilder().setId("uniform"))
        .setTraining(TrainingConfig.newBuilder().setBatchSize(8))
        .build()).getId();
  }

  @Test
  void callWithoutTheTokenIsUnauthenticated() {
    serverAddress();
    assumeTrue(System.getenv("SUPERNETD_TOKEN") != null, "the server was started without a token");
    try (SupernetdClient client = SupernetdClient.builderFromEnv().token(null).build()) {
      SupernetdException e = assertThrows(SupernetdException.class, client::listExperiments);
      assertEquals(Status.Code.UNAUTHENTICATED, e.getCode());
      assertEquals(ErrorReason.ERROR_REASON_UNAUTHENTICATED, e.getReason());
    }
  }
}
