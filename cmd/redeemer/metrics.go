package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"redeemer/chain"
	"redeemer/pipeline"
)

// nodeMetrics count what the service asks of the Ethereum node, through the
// request budget (chain.Observer).
type nodeMetrics struct {
	calls       *prometheus.CounterVec // method
	requests    prometheus.Counter
	rateLimited prometheus.Counter
	wait        *prometheus.HistogramVec // priority
}

func (m *nodeMetrics) register(reg prometheus.Registerer) error {
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "redeemer", Name: "eth_calls_total",
		Help: "JSON-RPC calls sent to the Ethereum node, by method (each element of a batch counts)."}, []string{"method"})
	m.requests = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "redeemer", Name: "eth_requests_total",
		Help: "HTTP requests sent to the Ethereum node (a batch is one)."})
	m.rateLimited = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "redeemer", Name: "eth_rate_limited_total",
		Help: "Times the node refused for our request rate (HTTP 429 or a rate-limit error); every caller then stood back."})
	m.wait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "redeemer", Name: "eth_budget_wait_seconds",
		Help:    "Time a request waited for the request budget (--eth-max-rps), by priority.",
		Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}}, []string{"priority"})
	for _, c := range []prometheus.Collector{m.calls, m.requests, m.rateLimited, m.wait} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *nodeMetrics) NodeCalls(methods []string) {
	m.requests.Inc()
	for _, name := range methods {
		m.calls.WithLabelValues(name).Inc()
	}
}

func (m *nodeMetrics) NodeRateLimited() { m.rateLimited.Inc() }

func (m *nodeMetrics) NodeBudgetWait(p chain.Priority, d time.Duration) {
	m.wait.WithLabelValues(p.String()).Observe(d.Seconds())
}

// stageMetrics follow the leader's pipeline (pipeline.Observer).
type stageMetrics struct {
	runs     *prometheus.CounterVec   // stage, result
	duration *prometheus.HistogramVec // stage
	done     *prometheus.GaugeVec     // stage
	tip      prometheus.Gauge
}

func (m *stageMetrics) register(reg prometheus.Registerer) error {
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "redeemer", Name: "stage_runs_total",
		Help: "Runs of the leader's pipeline stages, by stage and result (ok or error)."}, []string{"stage", "result"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "redeemer", Name: "stage_run_seconds",
		Help:    "Duration of one run of a pipeline stage.",
		Buckets: []float64{0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}}, []string{"stage"})
	m.done = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "redeemer", Name: "stage_done_head_number",
		Help: "Block number of the head of a stage's last successful run (leader only)."}, []string{"stage"})
	m.tip = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "redeemer", Name: "pipeline_tip_number",
		Help: "The newest head the leader's pipeline has seen (leader only)."})
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.done, m.tip} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *stageMetrics) StageRan(stage string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.runs.WithLabelValues(stage, result).Inc()
	m.duration.WithLabelValues(stage).Observe(d.Seconds())
}

func (m *stageMetrics) StageProgress(stage string, tip chain.Head) {
	m.done.WithLabelValues(stage).Set(float64(tip.Number))
}

func (m *stageMetrics) Head(tip chain.Head) { m.tip.Set(float64(tip.Number)) }

// pipelineObserver is the pipeline's observer (nil without ops).
func (o *ops) pipelineObserver() pipeline.Observer {
	if o == nil {
		return nil
	}
	return &o.stage
}

// nodeObserver is the request budget's observer (nil without ops).
func (o *ops) nodeObserver() chain.Observer {
	if o == nil {
		return nil
	}
	return &o.node
}
