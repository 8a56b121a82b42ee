package advisor

import (
	"testing"
	"time"

	"github.com/cloudline/cloudline/kernelspec"
)

func TestSaturationWindow(t *testing.T) {
	cases := []struct {
		training time.Duration
		want     time.Duration
	}{
		{time.Hour, 2 * time.Minute},
		{4 * time.Minute, 2 * time.Minute},
		{3 * time.Minute, 90 * time.Second},
		{2 * time.Second, time.Second},
		{0, 2 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.training.String(), func(t *testing.T) {
			cfg := kernelspec.DefaultConfig()
			cfg.TrainingTime = tc.training
			if got := saturation(cfg); got != tc.want {
				t.Errorf("saturation(training_time=%s) = %s, want %s", tc.training, got, tc.want)
			}
		})
	}
}
