// Package cloud knows the clouds a notebook can move to: a small dated
// table of instance sizes per vendor and the smallest that fits what a
// notebook's history measured (Fit, NeedOf); where this kernel already runs,
// read offline from DMI, the hypervisor and the environment (Detect); the
// next step worded for that place (NextStep); and the job definitions that
// run a notebook headless on each vendor's training service (Job).
//
// It does no network I/O. Detect reads files under redirectable roots;
// everything else is pure. Measuring is cellwatch's job, the rules are the
// advisor's, and writing files and running interpreters is cmd's.
package cloud
