package dev.supernetd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.supernetd.examples.SearchLoop;
import dev.supernetd.v1.ErrorReason;
import dev.supernetd.v1.ExportSubnetRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
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
  void unavailableIsRetriedThenThrown() {
    // Nothing listens on loopback port 1: every attempt fails with UNAVAILABLE.
    AtomicInteger attempts = new AtomicInteger();
    ClientInterceptor counting = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        attempts.incrementAndGet();
        return next.newCall(method, options);
      }
    };
    RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1), 2.0);
    try (SupernetdClient client = SupernetdClient.builder("127.0.0.1:1")
        .retryPolicy(policy).interceptors(counting).timeout(Duration.ofSeconds(10)).build()) {
      SupernetdException e = assertThrows(SupernetdException.class, client::listStrategies);
      assertEquals(Status.Code.UNAVAILABLE, e.getCode());
      assertEquals(ErrorReason.ERROR_REASON_UNSPECIFIED, e.getReason());
    }
    assertEquals(3, attempts.get());
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
