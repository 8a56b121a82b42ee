package cellwatch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestStringLiterals(t *testing.T) {
	tests := []struct {
		name string
		code string
		want []string
	}{
		{"pandas", `df = pd.read_csv("data/train.csv", sep=',')`, []string{"data/train.csv", ","}},
		{"numpy single quotes", `x = np.load('x.npy')`, []string{"x.npy"}},
		{"open with mode", "with open(\"notes.txt\", \"rb\") as f:\n    data = f.read()", []string{"notes.txt", "rb"}},
		{"glob", `files = glob.glob("data/*.parquet")`, []string{"data/*.parquet"}},
		{"pathlib", `root = Path("data") / "images"`, []string{"data", "images"}},
		{"f-string skipped", `df = pd.read_csv(f"data/{split}.csv"); g = F'{x}.npy'; h = rf"{a}\b"`, nil},
		{"raw and bytes prefixes", `a = r"C:\tmp\x"; b = b'bin.dat'; c = Rb"y"`, []string{`C:\tmp\x`, "bin.dat", "y"}},
		{"escapes", `s = "a\"b\\c"`, []string{`a"b\c`}},
		{"comment skipped", "# pd.read_csv('secret.csv')\nx = 1 # 'no'\ny = 'yes'", []string{"yes"}},
		{"triple quoted", "doc = \"\"\"multi\nline 'x'\"\"\"\npath = '''p.csv'''", []string{"multi\nline 'x'", "p.csv"}},
		{"identifier ending in f", `buf"x"` + "\n" + `elif"y"`, []string{"x", "y"}},
		{"unterminated", "x = 'abc\ny = \"ok\"", []string{"abc", "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stringLiterals(tt.code); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func writeSized(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, n), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanCode(t *testing.T) {
	dir := t.TempDir()
	writeSized(t, filepath.Join(dir, "data", "train.csv"), 1000)
	writeSized(t, filepath.Join(dir, "data", "a.parquet"), 200)
	writeSized(t, filepath.Join(dir, "data", "b.parquet"), 300)
	writeSized(t, filepath.Join(dir, "x.npy"), 50)
	tests := []struct {
		name  string
		code  string
		paths []FileUse
		bytes int64
	}{
		{"read_csv", `import pandas as pd
df = pd.read_csv("data/train.csv")`, []FileUse{{"data/train.csv", 1000}}, 1000},
		{"np.load and missing file", `x = np.load('x.npy'); y = np.load('missing.npy')`, []FileUse{{"x.npy", 50}}, 50},
		{"glob", `files = glob.glob("data/*.parquet")`, []FileUse{{"data/*.parquet", 500}}, 500},
		{"directory and a file inside it counted once", `root = Path("data")
df = pd.read_csv("data/train.csv")`, []FileUse{{"data", 1500}, {"data/train.csv", 1000}}, 1500},
		{"f-string skipped", `df = pd.read_csv(f"data/train.csv")`, nil, 0},
		{"working dir itself skipped", `os.listdir(".")`, nil, 0},
		{"urls skipped", `pd.read_csv("https://example.com/data/train.csv")`, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ScanCode(context.Background(), tt.code, dir, ScanLimits{})
			if !slices.Equal(got.Paths, tt.paths) || got.Bytes != tt.bytes || got.Cut {
				t.Errorf("got %+v, want paths %+v bytes %d", got, tt.paths, tt.bytes)
			}
		})
	}
}

func TestScanCodeBounded(t *testing.T) {
	dir := t.TempDir()
	for i := range 50 {
		writeSized(t, filepath.Join(dir, "big", string(rune('a'+i%26))+string(rune('a'+i/26)), "f.bin"), 10)
	}
	got := ScanCode(context.Background(), `Path("big")`, dir, ScanLimits{MaxEntries: 20})
	if !got.Cut || got.Bytes >= 500 || len(got.Paths) != 1 {
		t.Errorf("entry bound: got %+v, want cut and < 500 bytes", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got = ScanCode(ctx, `Path("big")`, dir, ScanLimits{})
	if !got.Cut {
		t.Errorf("cancelled scan: got %+v, want cut", got)
	}
	full := ScanCode(context.Background(), `Path("big")`, dir, ScanLimits{})
	if full.Cut || full.Bytes != 500 {
		t.Errorf("full scan: got %+v, want 500 bytes", full)
	}
}

func FuzzStringLiterals(f *testing.F) {
	for _, s := range []string{`pd.read_csv("a.csv")`, `f"{x}"`, "'''a\n'''", `r"\"`, `"unterminated`, "b'x' # 'c'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		for _, lit := range pathLiterals(code) { // must not panic
			if lit == "" || len(lit) > 1024 {
				t.Errorf("literal %q passed the filter", lit)
			}
		}
	})
}

func TestPathLiterals(t *testing.T) {
	tests := []struct {
		name string
		code string
		want []string
	}{
		{"dict key and column names are no paths", `df = pd.DataFrame({'data': [1, 2], 'label': ['a', 'b']}); df['data']`, nil},
		{"a path-taking call's argument", `df = pd.read_csv('data'); x = np.load("weights"); os.listdir('images')`, []string{"data", "weights", "images"}},
		{"open and Path", `open('notes')` + "\n" + `p = Path ( 'data' )`, []string{"notes", "data"}},
		{"keyword arguments naming paths", `ds = MNIST(root='data', download=True); load(data_dir="raw", mode='train')`, []string{"data", "raw"}},
		{"separators, extensions, globs", `a = 'data/'; b = "x.parquet"; c = '*.csv'; d = '~/ds'`, []string{"data/", "x.parquet", "*.csv", "~/ds"}},
		{"numbers and versions are no files", `v = '3.5'; w = 'v1.2'; k = 'cuda'`, nil},
		{"comparison is not a keyword", `if mode == 'train': pass`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pathLiterals(tt.code); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
