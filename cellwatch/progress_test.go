package cellwatch

import (
	"maps"
	"math"
	"testing"
	"time"
)

func TestOutputParserProgress(t *testing.T) {
	const minute = time.Minute
	tests := []struct {
		name      string
		chunks    []string // fed in order, all at elapsed
		elapsed   time.Duration
		fraction  float64
		projected time.Duration
		source    string
	}{
		{
			name: "tqdm updates joined by \\r (real tqdm 4.70 output)",
			chunks: []string{"\rtrain:   0%|          | 0/1000 [00:00<?, ?it/s]" +
				"\rtrain:  25%|##5       | 250/1000 [00:31<01:33,  8.03it/s]" +
				"\rtrain:  45%|████▌     | 450/1000 [01:02<01:15,  7.20it/s]"},
			elapsed: 70 * time.Second, fraction: 0.45, projected: 70*time.Second + 75*time.Second, source: "tqdm",
		},
		{
			name:    "tqdm unit scale",
			chunks:  []string{"\r 44%|####4     | 2.00k/4.50k [00:10<00:12, 200it/s]"},
			elapsed: 10 * time.Second, fraction: 2.0 / 4.5, projected: 22 * time.Second, source: "tqdm",
		},
		{
			name:    "tqdm hours, remaining unknown",
			chunks:  []string{"step:  10%|█         | 10/100 [1:00:00<?, ?it/s]"},
			elapsed: time.Hour, fraction: 0.1, projected: 10 * time.Hour, source: "tqdm",
		},
		{
			name:    "nested tqdm: the outer bar decides",
			chunks:  []string{"epochs:  20%|██        | 2/10 [00:20<01:20, 10.0s/it]\n", "\r100%|██████████| 50/50 [00:01<00:00, 40.0it/s]"},
			elapsed: 21 * time.Second, fraction: 0.2, projected: 21*time.Second + 80*time.Second, source: "tqdm",
		},
		{
			name:    "keras 2 epoch and step bar with backspaces",
			chunks:  []string{"Epoch 3/10\n", "\b\b\b\b\b\r 50/100 [==============>...............] - ETA: 1:23 - loss: 0.3012 - accuracy: 0.9100"},
			elapsed: 5 * minute, fraction: 0.25, projected: 20 * minute, source: "keras",
		},
		{
			name:    "keras 3 with colour codes",
			chunks:  []string{"Epoch 2/5\n", "\x1b[1m1875/1875\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m5s\x1b[0m 2ms/step - accuracy: 0.8784 - loss: 0.4285\n"},
			elapsed: 10 * time.Second, fraction: 0.4, projected: 25 * time.Second, source: "keras",
		},
		{
			name:    "keras epoch line alone",
			chunks:  []string{"Epoch 5/100\n"},
			elapsed: 8 * minute, fraction: 0.04, projected: 200 * minute, source: "keras",
		},
		{
			name:    "plain epoch",
			chunks:  []string{"epoch 3/10 - train loss 0.52, val_acc 0.81\n"},
			elapsed: 3 * minute, fraction: 0.3, projected: 10 * minute, source: "epoch",
		},
		{
			name:    "step N of M",
			chunks:  []string{"Step 40 of 100: loss=0.1\n"},
			elapsed: 40 * time.Second, fraction: 0.4, projected: 100 * time.Second, source: "step",
		},
		{
			name:    "bracketed epoch",
			chunks:  []string{"Epoch [2/8], Step [100/600], Loss: 0.2\n"},
			elapsed: 2 * minute, fraction: 0.25, projected: 8 * minute, source: "epoch",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p outputParser
			for _, c := range tt.chunks {
				p.feed(c, tt.elapsed)
			}
			got := p.progress()
			if got == nil {
				t.Fatal("no progress")
			}
			if math.Abs(got.Fraction-tt.fraction) > 1e-9 || got.Source != tt.source {
				t.Errorf("fraction %v source %q, want %v %q (line %q)", got.Fraction, got.Source, tt.fraction, tt.source, got.Line)
			}
			if d := got.Projected - tt.projected; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("projected %v, want %v", got.Projected, tt.projected)
			}
		})
	}
}

func TestOutputParserNoProgress(t *testing.T) {
	for _, s := range []string{"x = 3/4\n", "2023/10/01 12:00 started\n", "epoch 11/10\n", "hello world\n", "  0%|  | 0/0 [00:00<?, ?it/s]"} {
		var p outputParser
		p.feed(s, time.Second)
		if got := p.progress(); got != nil && got.Fraction > 0 {
			t.Errorf("%q: progress %+v", s, got)
		}
	}
}

func TestOutputParserMetrics(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]float64
	}{
		{"accuracy=0.93", map[string]float64{"accuracy": 0.93}},
		{"Epoch 1 loss: 0.12 val_acc 0.88", map[string]float64{"loss": 0.12, "val_acc": 0.88}},
		{"F1: 0.71, AUC = 0.88, rmse 12.5", map[string]float64{"f1": 0.71, "auc": 0.88, "rmse": 12.5}},
		{"test_rmse: 1e-3\n", map[string]float64{"test_rmse": 0.001}},
		{"epoch 3/10 - train loss 0.52, val_acc 0.81", map[string]float64{"train_loss": 0.52, "val_acc": 0.81}},
		{"loss.backward() # no number", nil},
		{"accuracy: 0.5\naccuracy: 0.9\n", map[string]float64{"accuracy": 0.9}}, // the last value wins
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var p outputParser
			p.feed(tt.in, time.Second)
			if !maps.Equal(p.metrics, tt.want) {
				t.Errorf("metrics %v, want %v", p.metrics, tt.want)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]time.Duration{"01:15": 75 * time.Second, "1:02:03": time.Hour + 2*time.Minute + 3*time.Second, "?": -1, "1:x": -1} {
		got, ok := parseClock(in)
		if ok != (want >= 0) || (ok && got != want) {
			t.Errorf("parseClock(%q) = %v, %v", in, got, ok)
		}
	}
}

func FuzzOutputParser(f *testing.F) {
	f.Add("\r 45%|████▌     | 450/1000 [01:02<01:15,  7.20it/s]")
	f.Add("Epoch 3/10\n 50/100 [=====>....] - loss: 0.3")
	f.Add("step 0 of 0\nepoch 5/0 accuracy=1e400")
	f.Fuzz(func(t *testing.T, text string) {
		var p outputParser
		p.feed(text, time.Minute)
		if pr := p.progress(); pr != nil && (pr.Fraction < 0 || pr.Fraction > 1) {
			t.Errorf("fraction %v out of [0, 1]", pr.Fraction)
		}
	})
}
