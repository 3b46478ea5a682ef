// Package searchloop is the Go example of a whole supernetd search: create an experiment, train
// on inline batches of a synthetic dataset, sample a subnet per FLOPs budget, measure and report
// it, and export it as a TF.js model. cmd/search-loop runs it against $SUPERNETD_ADDR.
package searchloop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"

	supernetdv1 "github.com/supernetd/supernetd/clients/go/gen/supernetd/v1"
	"github.com/supernetd/supernetd/clients/go/supernetd"
)

// Options sizes the run.
type Options struct {
	TrainSteps int
	BatchSize  int
	Budgets    int
}

// SyntheticImages makes n 28x28x1 uint8 images of 10 classes (class k is a bright 7x7 block at
// cell k of a 4x4 grid, on noise) and their labels.
func SyntheticImages(n int, seed uint64) ([]uint8, []int32) {
	rng := rand.New(rand.NewPCG(seed, 7))
	images := make([]uint8, n*28*28)
	labels := make([]int32, n)
	for i := range n {
		label := rng.IntN(10)
		labels[i] = int32(label)
		img := images[i*28*28 : (i+1)*28*28]
		for p := range img {
			img[p] = uint8(rng.IntN(40))
		}
		row, col := label/4, label%4
		for y := row * 7; y < row*7+7; y++ {
			for x := col * 7; x < col*7+7; x++ {
				img[y*28+x] = 220
			}
		}
	}
	return images, labels
}

func batch(n int, seed uint64) (*supernetdv1.Batch, error) {
	images, labels := SyntheticImages(n, seed)
	return supernetd.NewBatch(images, []int32{int32(n), 28, 28, 1}, labels)
}

// Run runs the loop, writes each budget's model under outDir/flops-<target>, deletes the
// experiment, and returns the written files by budget.
func Run(ctx context.Context, c *supernetd.Client, outDir string, o Options) (map[float64][]string, error) {
	created, err := c.CreateExperiment(ctx, &supernetdv1.CreateExperimentRequest{Spec: &supernetdv1.ExperimentSpec{
		DisplayName: "go example",
		SearchSpace: &supernetdv1.SearchSpace{Preset: "mbv2-small"},
		Strategy:    &supernetdv1.StrategySpec{Id: "uniform"},
	}})
	if err != nil {
		return nil, err
	}
	id := created.GetExperiment().GetId()
	defer func() {
		_, _ = c.DeleteExperiment(context.WithoutCancel(ctx), &supernetdv1.DeleteExperimentRequest{ExperimentId: id})
	}()
	fmt.Printf("created %s on backend %s\n", id, created.GetExperiment().GetBackend())

	for step := range o.TrainSteps {
		b, err := batch(o.BatchSize, uint64(step))
		if err != nil {
			return nil, err
		}
		res, err := c.TrainStep(ctx, &supernetdv1.TrainStepRequest{ExperimentId: id, Input: &supernetdv1.TrainStepRequest_Batch{Batch: b}})
		if err != nil {
			return nil, err
		}
		fmt.Printf("step %d: losses %v\n", res.GetStep(), res.GetLosses())
	}

	// Budgets between the cheapest and the dearest of a few unconstrained samples.
	sampled, err := c.SampleSubnet(ctx, &supernetdv1.SampleSubnetRequest{ExperimentId: id, Count: 8})
	if err != nil {
		return nil, err
	}
	var costs []float64
	for _, s := range sampled.GetSubnets() {
		costs = append(costs, s.GetCost().GetFlops())
	}
	slices.Sort(costs)
	targets := []float64{costs[0], (costs[0] + costs[len(costs)-1]) / 2}[:o.Budgets]

	evalBatch, err := batch(o.BatchSize, 1000)
	if err != nil {
		return nil, err
	}
	written := map[float64][]string{}
	for _, target := range targets {
		res, err := c.SampleSubnet(ctx, &supernetdv1.SampleSubnetRequest{ExperimentId: id, Constraint: supernetd.Flops(target)})
		if err != nil {
			return nil, err
		}
		subnet := res.GetSubnets()[0]
		measured, err := c.Evaluate(ctx, &supernetdv1.EvaluateRequest{
			ExperimentId: id, Target: &supernetdv1.EvaluateRequest_SubnetId{SubnetId: subnet.GetId()}, Batch: evalBatch,
		})
		if err != nil {
			return nil, err
		}
		if _, err := c.ReportMetric(ctx, &supernetdv1.ReportMetricRequest{
			ExperimentId: id, SubnetId: subnet.GetId(),
			Metrics: map[string]float64{"accuracy": measured.GetAccuracy(), "loss": measured.GetLoss()},
		}); err != nil {
			return nil, err
		}
		model, err := c.Export(ctx, &supernetdv1.ExportSubnetRequest{
			ExperimentId: id, Target: &supernetdv1.ExportSubnetRequest_SubnetId{SubnetId: subnet.GetId()},
		})
		if err != nil {
			return nil, err
		}
		files, err := model.WriteDir(filepath.Join(outDir, fmt.Sprintf("flops-%.0f", target)))
		if err != nil {
			return nil, err
		}
		written[target] = files
		fmt.Printf("budget %.0f FLOPs: subnet %s (%.0f FLOPs), accuracy %.3f, %d files\n",
			target, subnet.GetId(), subnet.GetCost().GetFlops(), measured.GetAccuracy(), len(files))
	}
	return written, nil
}
