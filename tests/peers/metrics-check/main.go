// metrics-check: reads a Prometheus text exposition on stdin the way the
// Prometheus server's scraper does (github.com/prometheus/common/expfmt)
// and lints it as `promtool check metrics` does (client_golang's promlint).
// Prints the families as JSON:
//
//	{"families": {"<name>": {"type": "COUNTER", "samples": [{"labels":
//	{...}, "value": 1}]}}, "problems": ["<metric>: <text>"]}
//
// Histograms give one sample per series with "count", "sum" and "buckets"
// ({"<le>": cumulative count}). Exit 1 if the exposition does not parse.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type sample struct {
	Labels  map[string]string  `json:"labels"`
	Value   float64            `json:"value"`
	Count   uint64             `json:"count,omitempty"`
	Sum     float64            `json:"sum,omitempty"`
	Buckets map[string]uint64 `json:"buckets,omitempty"`
}

type family struct {
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Samples []sample `json:"samples"`
}

func main() {
	text, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "metrics-check:", err)
		os.Exit(1)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		fmt.Fprintln(os.Stderr, "metrics-check: parse:", err)
		os.Exit(1)
	}
	out := struct {
		Families map[string]family `json:"families"`
		Problems []string          `json:"problems"`
	}{Families: map[string]family{}, Problems: []string{}}
	for name, mf := range families {
		f := family{Type: mf.GetType().String(), Help: mf.GetHelp()}
		for _, m := range mf.GetMetric() {
			s := sample{Labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.Labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				s.Value = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.Value = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				s.Value = m.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				s.Count = h.GetSampleCount()
				s.Sum = h.GetSampleSum()
				s.Buckets = map[string]uint64{}
				for _, b := range h.GetBucket() {
					le := strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)
					if math.IsInf(b.GetUpperBound(), 1) {
						le = "+Inf"
					}
					s.Buckets[le] = b.GetCumulativeCount()
				}
			}
			f.Samples = append(f.Samples, s)
		}
		out.Families[name] = f
	}
	problems, err := promlint.New(bytes.NewReader(text)).Lint()
	if err != nil {
		fmt.Fprintln(os.Stderr, "metrics-check: lint:", err)
		os.Exit(1)
	}
	for _, p := range problems {
		out.Problems = append(out.Problems, p.Metric+": "+p.Text)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "metrics-check:", err)
		os.Exit(1)
	}
}
