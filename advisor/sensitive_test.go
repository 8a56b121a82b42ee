package advisor

import "testing"

func TestMatchSensitive(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/data/pii/*", "/data/pii/a.csv", true},
		{"/data/pii/*", "/data/pii/2024/a.csv", true},
		{"/data/pii/", "/data/pii/2024/a.csv", true},
		{"/data/pii", "/data/pii/a.csv", true},
		{"/data/pii", "/data/pii", true},
		{"/data/pii/*", "/data/public/a.csv", false},
		{"/data/pii", "/data/piix/a.csv", false},
		{"/data/*/raw", "/data/clinic/raw/a.csv", true},
		{"/data/*.csv", "/data/a.csv", true},
		{"/data/*.csv", "/data/sub/a.csv", false},
		{"/data/pii/*", "data/pii/a.csv", false}, // absolute pattern, relative path
		{"data/pii/*", "/srv/proj/data/pii/a.csv", true},
		{"data/pii/*", "data/pii/a.csv", true},
		{"./data/pii/", "/srv/proj/data/pii/a.csv", true},
		{"data/pii/*", "/srv/proj/data/public/pii.csv", false},
		{"*.ssn.csv", "/mnt/x/people.ssn.csv", true},
		{"*.ssn.csv", "/mnt/x/people.csv", false},
		{"pii", "/srv/pii/a.csv", true},
		{"pii", "/srv/piix/a.csv", false},
		{"ssn*", "/srv/x/ssn_2024.csv", true},
		{"patients_[0-9].csv", "/srv/patients_7.csv", true},
		{"/*", "/anything/at/all", true},
		{"[", "/srv/[", false}, // malformed pattern matches nothing
		{"", "/srv/a", false},
		{"pii", "", false},
		{" /data/pii/* ", "/data/pii/a", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			if got := MatchSensitive(tt.pattern, tt.path); got != tt.want {
				t.Errorf("MatchSensitive(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
			}
		})
	}
}

func TestSensitiveHitsOncePerPath(t *testing.T) {
	hits := sensitiveHits([]string{"*.csv", "pii"},
		[]string{"/srv/pii/a.csv", "/srv/b.txt"}, []string{"/srv/pii/a.csv", "/srv/pii/c.parquet"})
	if len(hits) != 2 {
		t.Fatalf("hits = %v, want 2", hits)
	}
	if hits[0] != (sensitiveHit{"/srv/pii/a.csv", "*.csv"}) || hits[1] != (sensitiveHit{"/srv/pii/c.parquet", "pii"}) {
		t.Errorf("hits = %v", hits)
	}
}
