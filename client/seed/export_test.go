package seed

// SeedTryTriggersOff lets the external tests force the fully validated
// path that roles without the privilege take.
var SeedTryTriggersOff = &seedTryTriggersOff
