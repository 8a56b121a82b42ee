package advisor

import (
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

const (
	kib = uint64(1) << 10
	mib = uint64(1) << 20
	gib = uint64(1) << 30
)

// t0 is when every fixture cell was requested.
var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// laptop is a 16 GiB, 8-core machine with a 512 GiB disk, 200 GiB free.
func laptop() cellwatch.Machine {
	return cellwatch.Machine{
		TotalRAM: 16 * gib, MemLimit: 16 * gib, MemAvailable: 10 * gib,
		DiskFree: 200 * gib, DiskTotal: 512 * gib, Cores: 8,
	}
}

// running is a cell of notebook train.ipynb that started at t0 and is
// still running; live(d) is the evaluation time d later.
func running() cellwatch.Record {
	return cellwatch.Record{
		Session: "s3", Notebook: "train.ipynb", MsgID: "m1", CodeHash: "h1",
		FirstLine: "model.fit(X, y, epochs=50)",
		Requested: t0, Started: t0, Status: cellwatch.StatusRunning,
		PeakRSS: 2 * gib, RSS: 2 * gib, Machine: laptop(),
	}
}

// ended is running() finished OK after wall.
func ended(wall time.Duration) cellwatch.Record {
	r := running()
	r.Status, r.Ended, r.Wall = cellwatch.StatusOK, t0.Add(wall), wall
	return r
}

// quick is an ordinary 30 ms cell.
func quick() cellwatch.Record {
	r := ended(30 * time.Millisecond)
	r.FirstLine, r.PeakRSS, r.RSS = "df.head()", 180*mib, 180*mib
	return r
}

func with(r cellwatch.Record, edit func(*cellwatch.Record)) cellwatch.Record {
	edit(&r)
	return r
}

func config(edit func(*kernelspec.Config)) kernelspec.Config {
	c := kernelspec.DefaultConfig()
	if edit != nil {
		edit(&c)
	}
	return c
}

// pastRuns returns one finished cell per session with the given accuracy,
// oldest first, for notebook train.ipynb.
func pastRuns(acc ...float64) []cellwatch.Record {
	var out []cellwatch.Record
	for i, a := range acc {
		r := ended(20 * time.Second)
		r.Session, r.MsgID = "s"+string(rune('a'+i)), "p"+string(rune('a'+i))
		r.Requested = t0.Add(-time.Duration(len(acc)-i) * 24 * time.Hour)
		r.Metrics = map[string]float64{"accuracy": a, "loss": 0.2}
		out = append(out, r)
	}
	return out
}
