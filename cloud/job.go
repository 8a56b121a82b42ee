package cloud

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/cloudline/cloudline/human"
)

// Job is what a job definition needs to run a notebook headless with
// papermill on the plain Python kernel, whatever the vendor.
type Job struct {
	Name     string    // the notebook's stem: "02-long-training"
	Notebook string    // the notebook's file name inside Code
	Code     string    // the notebook's folder, as the job file refers to it (relative to the job file's folder)
	Python   string    // "3.11": the interpreter the pins come from
	Pins     []string  // "name==version", the wrapped interpreter's packages
	ReqFile  string    // the pinned requirements (or conda) file, relative to the job file's folder
	Inputs   []Input   // the data the notebook read
	Need     Need      // from the history (or DefaultNeed)
	Written  time.Time // when: names the AWS job uniquely, dates the comment
	Bucket   string    // s3:// or gs:// bucket name for uploads; "" = a placeholder
	Role     string    // AWS: the SageMaker execution role ARN; "" = a placeholder
	Region   string    // AWS: the region of the training image; "" = us-east-1
}

// Input is one data path the notebook read, to upload with the job.
type Input struct {
	Name  string // input or channel name: data_train_csv
	Local string // the local path to upload, relative to the job file's folder or absolute
	Read  string // the path the notebook reads it at, as its code names it (relative to its folder or absolute)
	Dir   bool
	Bytes int64
}

// Kernel is the kernel papermill runs the notebook with in the cloud: the
// plain Python kernel, which every image with ipykernel has. A notebook
// saved under a cloudline kernelspec would otherwise ask for one the job
// does not have.
const Kernel = "python3"

// nameRE is what the vendors accept in names (SageMaker's job names are
// the strictest: letters, digits and inner hyphens, 63 at most).
var nameRE = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// SafeName is s reduced to letters, digits and single hyphens, at most n
// long, never empty.
func SafeName(s string, n int) string {
	s = strings.Trim(nameRE.ReplaceAllString(s, "-"), "-")
	if len(s) > n {
		s = strings.TrimRight(s[:n], "-")
	}
	if s == "" {
		s = "notebook"
	}
	return s
}

// InputName is a name for the data at path that the vendors accept as an
// input or channel name (letters, digits, underscores; a letter first).
func InputName(p string, taken map[string]bool) string {
	base := strings.ToLower(strings.ReplaceAll(SafeName(path.Clean(strings.TrimPrefix(p, "/")), 40), "-", "_"))
	if base[0] < 'a' || base[0] > 'z' {
		base = "data_" + base
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	taken[name] = true
	return name
}

// summary is the comment every job file starts with: what sized it.
func (j Job) summary(size Size) []string {
	lines := []string{fmt.Sprintf("written by `cloudline job` on %s for %s (size table of %s)", j.Written.UTC().Format("2006-01-02 15:04 UTC"), j.Notebook, TableDate)}
	if !j.Need.Measured() {
		return append(lines, "no run of this notebook is in the history yet: default size "+size.Name+
			" and a time limit of "+Hours(TimeLimit(j.Need))+"; run it under cloudline once and write the job again to size it")
	}
	l := fmt.Sprintf("sized from %s: peak memory %s (needs %s), %d vCPU kept busy", Cells(j.Need.Cells), human.Bytes(j.Need.Peak), j.Need.NeedText(), j.Need.Cores)
	if j.Need.GPUMem > 0 {
		l += fmt.Sprintf(", GPU memory with headroom %s", GiBText(j.Need.GPUMem))
	}
	return append(lines, l, fmt.Sprintf("longest run %s (measured or projected): time limit %s", Hours(j.Need.Run), Hours(TimeLimit(j.Need))))
}

// Cells is "1 measured cell" or "12 measured cells".
func Cells(n int) string {
	if n == 1 {
		return "1 measured cell"
	}
	return fmt.Sprintf("%d measured cells", n)
}

// papermill is the command that runs the notebook, from inside its folder.
func (j Job) papermill(out string) string {
	return fmt.Sprintf("papermill %s %s -k %s", shellQuote(j.Notebook), shellQuote(out), Kernel)
}

// inCode lists the inputs that lie inside the code folder, relative to it,
// as upload tools exclude them: "*" patterns ("data/x.csv", "data/dir/*")
// or anchored regular expressions ("^data/x\\.csv$").
func (j Job) inCode(form string) []string {
	var out []string
	for _, in := range j.Inputs {
		rel := path.Clean(in.Local)
		if j.Code != "." {
			r, ok := strings.CutPrefix(rel, path.Clean(j.Code)+"/")
			if !ok {
				continue
			}
			rel = r
		}
		if strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
			continue
		}
		if form == "regexp" {
			e := "^" + regexp.QuoteMeta(rel)
			if in.Dir {
				out = append(out, e+"/")
			} else {
				out = append(out, e+"$")
			}
		} else if in.Dir {
			out = append(out, rel+"/*")
		} else {
			out = append(out, rel)
		}
	}
	return out
}

// links puts each input where the notebook reads it: at reads[i], from
// the mounted or downloaded mounts[i].
func links(inputs []Input, mounts []string) []string {
	var cmds []string
	for i, in := range inputs {
		if d := path.Dir(in.Read); d != "." && d != "/" {
			cmds = append(cmds, "mkdir -p "+shellQuote(d))
		}
		cmds = append(cmds, "ln -sfn "+mounts[i]+" "+shellQuote(strings.TrimSuffix(in.Read, "/")))
	}
	return cmds
}

// Hours is a duration as "3h", "1h 30m" or "45m".
func Hours(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh %02dm", h, m)
}

// yamlString quotes s as a YAML double-quoted scalar (JSON's form, which
// YAML reads the same).
func yamlString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
