package dev.supernetd.client;

import dev.supernetd.v1.Batch;
import dev.supernetd.v1.Constraint;
import dev.supernetd.v1.CreateExperimentRequest;
import dev.supernetd.v1.DeleteExperimentRequest;
import dev.supernetd.v1.EvaluateRequest;
import dev.supernetd.v1.EvaluateResponse;
import dev.supernetd.v1.Experiment;
import dev.supernetd.v1.ExperimentSpec;
import dev.supernetd.v1.ExportHeader;
import dev.supernetd.v1.ExportSubnetRequest;
import dev.supernetd.v1.ExportSubnetResponse;
import dev.supernetd.v1.ExportedFile;
import dev.supernetd.v1.GetExperimentRequest;
import dev.supernetd.v1.ListExperimentsRequest;
import dev.supernetd.v1.ListExperimentsResponse;
import dev.supernetd.v1.ListMetricsRequest;
import dev.supernetd.v1.ListMetricsResponse;
import dev.supernetd.v1.ListStrategiesRequest;
import dev.supernetd.v1.MetricRecord;
import dev.supernetd.v1.ReportMetricRequest;
import dev.supernetd.v1.SampleSubnetRequest;
import dev.supernetd.v1.StrategyInfo;
import dev.supernetd.v1.Subnet;
import dev.supernetd.v1.SupernetServiceGrpc.SupernetServiceBlockingStub;
import dev.supernetd.v1.SupernetServiceGrpc;
import dev.supernetd.v1.TrainRequest;
import dev.supernetd.v1.TrainResponse;
import dev.supernetd.v1.TrainStepRequest;
import dev.supernetd.v1.TrainStepResponse;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Deadline;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Client of one supernetd server.
 *
 * <p>Every call gets the default deadline (2 minutes unless configured; {@link #train} streams
 * get none). gRPC retries the {@link RetryPolicy#RETRIED_METHODS} on UNAVAILABLE (the channel's
 * service config); CreateExperiment, DeleteExperiment, ReportMetric and TrainStep carry a
 * request_id (a fresh UUID unless the request has one, the same on every retry), so the server
 * applies each at most once. Every failure is thrown as {@link SupernetdException} carrying the
 * server's error details.
 *
 * <pre>{@code
 * try (SupernetdClient client = SupernetdClient.builder("127.0.0.1:50051").token(token).build()) {
 *   Experiment e = client.getExperiment("x");
 * } catch (SupernetdException e) {
 *   if (e.getReason() == ErrorReason.ERROR_REASON_EXPERIMENT_NOT_FOUND) { ... }
 * }
 * }</pre>
 */
public final class SupernetdClient implements AutoCloseable {
  /** Address used by {@link #fromEnv()} when SUPERNETD_ADDR is unset. */
  public static final String DEFAULT_ADDRESS = "127.0.0.1:50051";

  private final ManagedChannel channel;
  private final SupernetServiceBlockingStub stub;
  private final Duration timeout;

  private SupernetdClient(Builder b) {
    ChannelCredentials creds;
    if (!b.tls) {
      creds = InsecureChannelCredentials.create();
    } else if (b.trustCertificates != null) {
      try {
        creds = TlsChannelCredentials.newBuilder().trustManager(b.trustCertificates).build();
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + b.trustCertificates + ": " + e.getMessage(), e);
      }
    } else {
      creds = TlsChannelCredentials.create();
    }
    ManagedChannelBuilder<?> channelBuilder = Grpc.newChannelBuilder(b.target, creds).maxInboundMessageSize(64 << 20);
    if (b.retry.maxAttempts() > 1) channelBuilder.defaultServiceConfig(b.retry.serviceConfig()).enableRetry();
    else channelBuilder.disableRetry();
    this.channel = channelBuilder.build();
    SupernetServiceBlockingStub s = SupernetServiceGrpc.newBlockingStub(channel);
    if (b.token != null && !b.token.isEmpty()) {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + b.token);
      s = s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    if (!b.interceptors.isEmpty()) s = s.withInterceptors(b.interceptors.toArray(new ClientInterceptor[0]));
    this.stub = s;
    this.timeout = b.timeout;
  }

  /** A builder for the server at {@code target} ({@code host:port}). */
  public static Builder builder(String target) {
    return new Builder(target);
  }

  /**
   * A builder for $SUPERNETD_ADDR (default {@value #DEFAULT_ADDRESS}) with $SUPERNETD_TOKEN when
   * set, over TLS trusting the PEM file $SUPERNETD_TLS_CA when set.
   */
  public static Builder builderFromEnv() {
    String addr = System.getenv("SUPERNETD_ADDR");
    Builder b = builder(addr == null || addr.isEmpty() ? DEFAULT_ADDRESS : addr);
    String token = System.getenv("SUPERNETD_TOKEN");
    if (token != null && !token.isEmpty()) b.token(token);
    String ca = System.getenv("SUPERNETD_TLS_CA");
    if (ca != null && !ca.isEmpty()) b.trustCertificates(new File(ca));
    return b;
  }

  /** A client configured by {@link #builderFromEnv()}. */
  public static SupernetdClient fromEnv() {
    return builderFromEnv().build();
  }

  /** Configures a {@link SupernetdClient}. */
  public static final class Builder {
    private final String target;
    private String token;
    private boolean tls;
    private File trustCertificates;
    private Duration timeout = Duration.ofMinutes(2);
    private RetryPolicy retry = RetryPolicy.DEFAULT;
    private final List<ClientInterceptor> interceptors = new ArrayList<>();

    private Builder(String target) {
      this.target = target;
    }

    /** Sends {@code authorization: Bearer <token>} with every call. */
    public Builder token(String token) {
      this.token = token;
      return this;
    }

    /** Connects over TLS, trusting the system roots. */
    public Builder useTls() {
      this.tls = true;
      return this;
    }

    /** Connects over TLS, trusting the PEM certificates in {@code file}. */
    public Builder trustCertificates(File file) {
      this.tls = true;
      this.trustCertificates = file;
      return this;
    }

    /** The deadline of each call (default 2 minutes). */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** gRPC's retries of UNAVAILABLE (default {@link RetryPolicy#DEFAULT}). */
    public Builder retryPolicy(RetryPolicy retry) {
      this.retry = retry;
      return this;
    }

    /** Adds interceptors to every call (logging, tracing, ...); gRPC's retries happen below them. */
    public Builder interceptors(ClientInterceptor... interceptors) {
      this.interceptors.addAll(List.of(interceptors));
      return this;
    }

    public SupernetdClient build() {
      return new SupernetdClient(this);
    }
  }

  /** The generated blocking stub (with the token attached), for calls this class does not wrap. */
  public SupernetServiceBlockingStub stub() {
    return stub;
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) channel.shutdownNow();
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Runs {@code call} under one deadline for all of gRPC's attempts. */
  private <T> T call(Function<SupernetServiceBlockingStub, T> call) {
    Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
    try {
      return call.apply(stub.withDeadline(deadline));
    } catch (StatusRuntimeException e) {
      throw SupernetdException.from(e);
    }
  }

  /** A fresh request id (a random UUID), as the client makes for each call that takes one and has none. */
  public static String newRequestId() {
    return UUID.randomUUID().toString();
  }

  /** Creates an experiment from {@code spec}, with a server-chosen id when {@code id} is empty. */
  public Experiment createExperiment(String id, ExperimentSpec spec) {
    return createExperiment(CreateExperimentRequest.newBuilder().setExperimentId(id).setSpec(spec).build());
  }

  /** Creates an experiment; a repeat with the request's request_id (filled when empty) returns the same one. */
  public Experiment createExperiment(CreateExperimentRequest req) {
    CreateExperimentRequest r = req.getRequestId().isEmpty() ? req.toBuilder().setRequestId(newRequestId()).build() : req;
    return call(s -> s.createExperiment(r)).getExperiment();
  }

  /** Returns one experiment; NOT_FOUND with ERROR_REASON_EXPERIMENT_NOT_FOUND if there is none. */
  public Experiment getExperiment(String id) {
    return call(s -> s.getExperiment(GetExperimentRequest.newBuilder().setExperimentId(id).build())).getExperiment();
  }

  /** Returns every experiment, following pages. */
  public List<Experiment> listExperiments() {
    List<Experiment> out = new ArrayList<>();
    String token = "";
    do {
      ListExperimentsRequest req = ListExperimentsRequest.newBuilder().setPageToken(token).build();
      ListExperimentsResponse page = call(s -> s.listExperiments(req));
      out.addAll(page.getExperimentsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  /** Deletes an experiment and everything stored for it. */
  public void deleteExperiment(String id) {
    DeleteExperimentRequest req = DeleteExperimentRequest.newBuilder().setExperimentId(id).setRequestId(newRequestId()).build();
    call(s -> s.deleteExperiment(req));
  }

  /** Returns the registered strategies. */
  public List<StrategyInfo> listStrategies() {
    return call(s -> s.listStrategies(ListStrategiesRequest.getDefaultInstance())).getStrategiesList();
  }

  /** Asks the strategy for subnets. */
  public List<Subnet> sampleSubnet(SampleSubnetRequest req) {
    return call(s -> s.sampleSubnet(req)).getSubnetsList();
  }

  /** Asks the strategy for one subnet that fits {@code constraint} ({@code null}: any subnet). */
  public Subnet sampleSubnet(String experimentId, Constraint constraint) {
    SampleSubnetRequest.Builder b = SampleSubnetRequest.newBuilder().setExperimentId(experimentId);
    if (constraint != null) b.setConstraint(constraint);
    return sampleSubnet(b.build()).get(0);
  }

  /** Stores a measurement of a subnet durably; returns its sequence number in the metric log. */
  public long reportMetric(String experimentId, String subnetId, Map<String, Double> metrics) {
    return reportMetric(ReportMetricRequest.newBuilder().setExperimentId(experimentId).setSubnetId(subnetId).putAllMetrics(metrics).build());
  }

  /**
   * Stores a measurement; a repeat with the same request_id (filled with a fresh one when empty) is
   * answered with the first sequence and stored once.
   */
  public long reportMetric(ReportMetricRequest req) {
    ReportMetricRequest r = req.getRequestId().isEmpty() ? req.toBuilder().setRequestId(newRequestId()).build() : req;
    return call(s -> s.reportMetric(r)).getSequence();
  }

  /** Returns the experiment's whole metric log, following pages. */
  public List<MetricRecord> listMetrics(String experimentId) {
    List<MetricRecord> out = new ArrayList<>();
    String token = "";
    do {
      ListMetricsRequest req = ListMetricsRequest.newBuilder().setExperimentId(experimentId).setPageToken(token).build();
      ListMetricsResponse page = call(s -> s.listMetrics(req));
      out.addAll(page.getRecordsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  /**
   * Runs one training step (inline batch) or {@code steps} steps on the experiment's dataset; a
   * repeat with the same request_id (filled when empty) returns the first response without training.
   */
  public TrainStepResponse trainStep(TrainStepRequest req) {
    TrainStepRequest r = req.getRequestId().isEmpty() ? req.toBuilder().setRequestId(newRequestId()).build() : req;
    return call(s -> s.trainStep(r));
  }

  /** Runs one training step on an inline batch (see {@link Tensors#batch}). */
  public TrainStepResponse trainStep(String experimentId, Batch batch) {
    return trainStep(TrainStepRequest.newBuilder().setExperimentId(experimentId).setBatch(batch).build());
  }

  /** Measures a subnet's accuracy and loss. */
  public EvaluateResponse evaluate(EvaluateRequest req) {
    return call(s -> s.evaluate(req));
  }

  /**
   * Trains on the experiment's dataset, returning progress events as they arrive. Not retried and
   * without a default deadline; iterating throws {@link SupernetdException} on failure.
   */
  public Iterator<TrainResponse> train(TrainRequest req) {
    Iterator<TrainResponse> events;
    try {
      events = stub.train(req);
    } catch (StatusRuntimeException e) {
      throw SupernetdException.from(e);
    }
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        try {
          return events.hasNext();
        } catch (StatusRuntimeException e) {
          throw SupernetdException.from(e);
        }
      }

      @Override
      public TrainResponse next() {
        if (!hasNext()) throw new NoSuchElementException();
        return events.next();
      }
    };
  }

  /**
   * Exports a subnet and collects the stream, checking every file's size and SHA-256 against the
   * header (IllegalStateException when they disagree). gRPC retries it on UNAVAILABLE before its
   * first message.
   */
  public ExportedModel exportSubnet(ExportSubnetRequest req) {
    return call(s -> collect(s.exportSubnet(req)));
  }

  /** Exports the subnet with id {@code subnetId}. */
  public ExportedModel exportSubnet(String experimentId, String subnetId) {
    return exportSubnet(ExportSubnetRequest.newBuilder().setExperimentId(experimentId).setSubnetId(subnetId).build());
  }

  private static ExportedModel collect(Iterator<ExportSubnetResponse> stream) {
    ExportHeader header = null;
    Map<String, ByteArrayOutputStream> parts = new LinkedHashMap<>();
    while (stream.hasNext()) {
      ExportSubnetResponse msg = stream.next();
      if (msg.hasHeader()) {
        header = msg.getHeader();
      } else if (msg.hasChunk()) {
        ByteArrayOutputStream buf = parts.computeIfAbsent(msg.getChunk().getPath(), p -> new ByteArrayOutputStream());
        if (buf.size() != msg.getChunk().getOffset()) {
          throw new IllegalStateException("export chunk of " + msg.getChunk().getPath() + " at offset "
              + msg.getChunk().getOffset() + ", expected " + buf.size());
        }
        buf.writeBytes(msg.getChunk().getData().toByteArray());
      }
    }
    if (header == null) throw new IllegalStateException("export stream ended without a header");
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (ExportedFile f : header.getFilesList()) {
      ByteArrayOutputStream buf = parts.get(f.getPath());
      byte[] data = buf == null ? new byte[0] : buf.toByteArray();
      if (data.length != f.getSize() || !sha256(data).equals(f.getSha256())) {
        throw new IllegalStateException("exported file " + f.getPath() + " does not match its size or SHA-256");
      }
      files.put(f.getPath(), data);
    }
    return new ExportedModel(header, files);
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
