package dev.supernetd.examples;

import dev.supernetd.client.Constraints;
import dev.supernetd.client.ExportedModel;
import dev.supernetd.client.SupernetdClient;
import dev.supernetd.client.Tensors;
import dev.supernetd.v1.Batch;
import dev.supernetd.v1.EvaluateRequest;
import dev.supernetd.v1.EvaluateResponse;
import dev.supernetd.v1.Experiment;
import dev.supernetd.v1.ExperimentSpec;
import dev.supernetd.v1.SampleSubnetRequest;
import dev.supernetd.v1.SearchSpace;
import dev.supernetd.v1.StrategySpec;
import dev.supernetd.v1.Subnet;
import dev.supernetd.v1.TrainStepResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A whole supernetd search on a synthetic dataset: create an experiment (mbv2-small, uniform),
 * train on inline batches, sample a subnet per FLOPs budget, measure and report it, export it.
 *
 * <pre>SUPERNETD_ADDR=127.0.0.1:50051 mvn -q test-compile exec:java -Dexec.args=out-dir</pre>
 */
public final class SearchLoop {
  private SearchLoop() {}

  /** n 28x28x1 images of 10 classes: class k is a bright 7x7 block at cell k of a 4x4 grid, on noise. */
  static Batch syntheticBatch(int n, long seed) {
    Random rng = new Random(seed);
    byte[] pixels = new byte[n * 28 * 28];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      int label = rng.nextInt(10);
      labels[i] = label;
      int base = i * 28 * 28;
      for (int p = 0; p < 28 * 28; p++) pixels[base + p] = (byte) rng.nextInt(40);
      int row = label / 4, col = label % 4;
      for (int y = row * 7; y < row * 7 + 7; y++) {
        for (int x = col * 7; x < col * 7 + 7; x++) pixels[base + y * 28 + x] = (byte) 220;
      }
    }
    return Tensors.batch(pixels, new int[] {n, 28, 28, 1}, labels);
  }

  /** Runs the loop, writes each budget's model under outDir/flops-TARGET, deletes the experiment. */
  public static Map<Double, List<Path>> run(SupernetdClient client, Path outDir, int trainSteps, int batchSize, int budgets)
      throws IOException {
    ExperimentSpec spec = ExperimentSpec.newBuilder()
        .setDisplayName("java example")
        .setSearchSpace(SearchSpace.newBuilder().setPreset("mbv2-small"))
        .setStrategy(StrategySpec.newBuilder().setId("uniform"))
        .build();
    Experiment experiment = client.createExperiment("", spec);
    String id = experiment.getId();
    System.out.println("created " + id + " on backend " + experiment.getBackend());
    try {
      for (int step = 0; step < trainSteps; step++) {
        TrainStepResponse res = client.trainStep(id, syntheticBatch(batchSize, step));
        System.out.println("step " + res.getStep() + ": losses " + res.getLossesMap());
      }

      // Budgets between the cheapest and the dearest of a few unconstrained samples.
      double[] costs = client.sampleSubnet(SampleSubnetRequest.newBuilder().setExperimentId(id).setCount(8).build())
          .stream().mapToDouble(s -> s.getCost().getFlops()).sorted().toArray();
      List<Double> targets = new ArrayList<>(List.of(costs[0], (costs[0] + costs[costs.length - 1]) / 2));

      Batch evalBatch = syntheticBatch(batchSize, 1000);
      Map<Double, List<Path>> written = new LinkedHashMap<>();
      for (double target : targets.subList(0, budgets)) {
        Subnet subnet = client.sampleSubnet(id, Constraints.flops(target));
        EvaluateResponse measured = client.evaluate(
            EvaluateRequest.newBuilder().setExperimentId(id).setSubnetId(subnet.getId()).setBatch(evalBatch).build());
        client.reportMetric(id, subnet.getId(), Map.of("accuracy", measured.getAccuracy(), "loss", measured.getLoss()));
        ExportedModel model = client.exportSubnet(id, subnet.getId());
        List<Path> files = model.writeTo(outDir.resolve(String.format("flops-%.0f", target)));
        written.put(target, files);
        System.out.printf("budget %.0f FLOPs: subnet %s (%.0f FLOPs), accuracy %.3f, files %s%n",
            target, subnet.getId(), subnet.getCost().getFlops(), measured.getAccuracy(), model.files().keySet());
      }
      return written;
    } finally {
      client.deleteExperiment(id);
    }
  }

  public static void main(String[] args) throws IOException {
    Path out = Path.of(args.length > 0 ? args[0] : "supernetd-export");
    try (SupernetdClient client = SupernetdClient.fromEnv()) {
      run(client, out, 3, 16, 2);
    }
  }
}
