package cloud

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fakeEnv reads testdata/where/NAME: sys/ is the sysfs root, root/ the
// root holding /opt, env holds KEY=VALUE lines (the only variables set).
func fakeEnv(t *testing.T, dir string) Env {
	t.Helper()
	vars := map[string]string{}
	if f, err := os.Open(filepath.Join(dir, "env")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				vars[k] = v
			}
		}
		f.Close()
	}
	return Env{Sys: filepath.Join(dir, "sys"), Root: filepath.Join(dir, "root"),
		Getenv: func(k string) string { return vars[k] }}
}

func TestDetectGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/where/*")
	if err != nil || len(dirs) < 8 {
		t.Fatalf("fake trees: %v, %v", dirs, err)
	}
	want := map[string]Kind{
		"azure-vm": KindVM, "aws-nitro": KindVM, "aws-xen": KindVM, "gce": KindVM,
		"laptop": KindLocal, "hyperv-laptop": KindLocal, "azureml-job": KindJob,
		"sagemaker-job": KindJob, "colab": KindHosted, "sagemaker-studio": KindHosted,
		"hub": KindHub, "gateway": KindGateway,
	}
	need := Need{Mem: 50 * GiB, Peak: 40 * GiB, Cores: 2, Cells: 12}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			p := Detect(fakeEnv(t, dir))
			if p.Kind != want[name] {
				t.Errorf("kind %q, want %q", p.Kind, want[name])
			}
			js, _ := json.Marshal(p)
			s := Step{Place: p, Vendor: VendorFor("", p), Need: need, Notebook: "02-long-training.ipynb"}
			got := "place: " + string(js) + "\nvendor: " + s.Vendor + "\n\n" + s.Text(true) + "\n"
			golden := filepath.Join(dir, "golden.md")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden: %v (run go test ./cloud -update)", err)
			}
			if string(b) != got {
				t.Errorf("wording changed:\n--- got\n%s--- want\n%s", got, b)
			}
		})
	}
}

func TestDetectDetails(t *testing.T) {
	p := Detect(fakeEnv(t, "testdata/where/sagemaker-job"))
	if p.Instance != "ml.g5.xlarge" || p.Advise() {
		t.Errorf("SageMaker job: %+v; want ml.g5.xlarge from SM_TRAINING_ENV and no advice", p)
	}
	if p := Detect(fakeEnv(t, "testdata/where/aws-nitro")); p.Cloud != "aws" || p.Instance != "m5.xlarge" {
		t.Errorf("Nitro: %+v", p)
	}
	if p := Detect(fakeEnv(t, "testdata/where/hub")); p.MemLimit != 8*GiB || p.CPULimit != 2 {
		t.Errorf("hub: %+v; want MEM_LIMIT 8 GiB, CPU_LIMIT 2", p)
	}
	if p := Detect(Env{Sys: t.TempDir(), Root: t.TempDir(), Getenv: func(string) string { return "" }}); p.Kind != KindLocal || p.Cloud != "" {
		t.Errorf("empty tree: %+v", p)
	}
	for in, want := range map[string]uint64{"8589934592": 8 * GiB, "2G": 2 * GiB, "512M": 512 << 20, "1.5G": 3 * GiB / 2, "x": 0, "": 0, "-1": 0} {
		if got := parseMemLimit(in); got != want {
			t.Errorf("parseMemLimit(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestStepWording(t *testing.T) {
	s := Step{Place: Place{Kind: KindLocal}, Vendor: "aws", Need: DefaultNeed(), Notebook: "my notebook.ipynb"}
	got := s.Text(false)
	for _, w := range []string{"default size, ml.m5.xlarge", "cloudline job 'my notebook.ipynb' --cloud aws writes a SageMaker training job"} {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
	if VendorFor("gcp", Place{Cloud: "azure"}) != "gcp" || VendorFor("", Place{Cloud: "aws"}) != "aws" || VendorFor("", Place{}) != "azure" {
		t.Error("VendorFor: configured, then detected, then azure")
	}
}
