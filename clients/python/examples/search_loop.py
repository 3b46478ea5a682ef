"""A whole supernetd search loop on a synthetic dataset the example makes itself.

Creates an experiment (mbv2-small, uniform strategy), trains a few steps on inline batches, samples
one subnet per FLOPs budget, measures and reports it, and exports each as a TF.js model.

    SUPERNETD_ADDR=127.0.0.1:50051 python examples/search_loop.py [out_dir]
"""

from __future__ import annotations

import os
import sys
from typing import Optional

import numpy as np

from supernetd import Client, flops


def synthetic_images(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """28x28x1 uint8 images of 10 classes: class k is a bright 7x7 block at cell k of a 4x4 grid, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count, dtype=np.int32)
    images = rng.integers(0, 40, size=(count, 28, 28, 1), dtype=np.uint8)
    for i, label in enumerate(labels):
        row, col = divmod(int(label), 4)
        images[i, row * 7 : row * 7 + 7, col * 7 : col * 7 + 7, 0] = 220
    return images, labels


def run_search(client: Client, out_dir: str, *, train_steps: int = 3, batch_size: int = 16,
               budgets: int = 2, experiment_id: Optional[str] = None) -> dict[float, list[str]]:
    """Runs the loop and returns the written files per FLOPs budget. Deletes the experiment at the end."""
    experiment = client.create_experiment(
        experiment_id=experiment_id or "",
        display_name="python example",
        search_space="mbv2-small",
        strategy="uniform",
    )
    print(f"created {experiment.id} on backend {experiment.backend or '?'}")
    try:
        for step in range(train_steps):
            images, labels = synthetic_images(batch_size, seed=step)
            result = client.train_step(experiment.id, images, labels)
            print(f"step {result.step}: losses {dict(result.losses)}")

        # Budgets between the cheapest and the dearest of a few unconstrained samples.
        costs = sorted(s.cost.flops for s in client.sample_subnet(experiment.id, count=8))
        targets = [costs[0], (costs[0] + costs[-1]) / 2][:budgets]

        eval_images, eval_labels = synthetic_images(batch_size, seed=1000)
        written: dict[float, list[str]] = {}
        for target in targets:
            (subnet,) = client.sample_subnet(experiment.id, flops(target))
            measured = client.evaluate(experiment.id, subnet_id=subnet.id, images=eval_images, labels=eval_labels)
            client.report_metric(experiment.id, subnet.id, {"accuracy": measured.accuracy, "loss": measured.loss})
            model = client.export_subnet(experiment.id, subnet_id=subnet.id)
            written[target] = model.write(os.path.join(out_dir, f"flops-{int(target)}"))
            print(f"budget {target:.0f} FLOPs: subnet {subnet.id} ({subnet.cost.flops:.0f} FLOPs), "
                  f"accuracy {measured.accuracy:.3f}, files {sorted(model.files)}")
        return written
    finally:
        client.delete_experiment(experiment.id)


if __name__ == "__main__":
    with Client() as c:
        run_search(c, sys.argv[1] if len(sys.argv) > 1 else "supernetd-export")
