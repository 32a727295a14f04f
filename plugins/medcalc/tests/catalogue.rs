//! The catalogue's MedCalc-Bench env file on its Hub fixture
//! (`tests/fixtures/hub/`): the env file's own `env_args` configure the
//! plugin, every record prepares, its reference scores 1 and an empty reply
//! 0. What `assay plugin check` verifies through the host.

use catalogue_fixtures::{envs_of, prove};
use medcalc::MedCalc;

#[test]
fn every_medcalc_env_passes_on_its_fixture() {
    let envs = envs_of("medcalc");
    assert_eq!(envs.iter().map(|env| env.id.as_str()).collect::<Vec<_>>(), ["medcalc-bench"]);
    for env in &envs {
        assert_eq!(prove::<MedCalc>(env), 5, "one record per answer kind, two dates");
    }
}
