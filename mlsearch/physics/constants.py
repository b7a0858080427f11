"""Physical constants (PDG 2024) and SuperKEKB beam parameters.

Energies and masses in GeV, angles in rad, cross sections converted with GEV2_TO_FB.
Beam numbers: Belle II TDR, arXiv:1011.0352 (docs/simulation.md, "Sources").
"""

ALPHA_EM = 1.0 / 137.035999084  # fine-structure constant at q^2 = 0
M_E = 0.51099895e-3  # electron mass [GeV]
M_MU = 0.1056583755  # muon mass [GeV]
M_TAU = 1.77686  # tau mass [GeV]
M_PI = 0.13957039  # charged pion mass [GeV]
M_PI0 = 0.1349768  # neutral pion mass [GeV]
M_K = 0.493677  # charged kaon mass [GeV]
GEV2_TO_FB = 0.3893793721e12  # (hbar c)^2: 1 GeV^-2 = 3.894e11 fb
GEV2_TO_PB = GEV2_TO_FB * 1e-3

# SuperKEKB at the Upsilon(4S)
E_HER = 7.004  # electron (high-energy ring) beam energy [GeV]
E_LER = 4.002  # positron (low-energy ring) beam energy [GeV]
HALF_CROSSING_ANGLE = 0.0415  # each beam's angle to the solenoid (z) axis, x-z plane [rad]
SIGMA_E_HER = 5.13e-3  # HER energy spread, 1 sigma [GeV]
SIGMA_E_LER = 2.375e-3  # LER energy spread, 1 sigma [GeV]
