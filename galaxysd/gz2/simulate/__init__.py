"""A simulated GZ2-like survey with the same files and layout as the real data.

- :mod:`~galaxysd.gz2.simulate.population` draws galaxies: redshift, mass, size, star formation, halo
  and the true morphology of each;
- :mod:`~galaxysd.gz2.simulate.render` paints them as gri images from the light components of
  :mod:`~galaxysd.gz2.simulate.components` (Sérsic bulges, exponential disks, logarithmic spiral arms,
  bars, rings, dust lanes, mergers), with PSF, noise and an asinh stretch;
- :mod:`~galaxysd.gz2.simulate.volunteers` casts simulated GZ2 votes that follow the decision tree and
  lean toward "smooth" for small, faint galaxies, and writes the 231-column Hart16 table;
- :mod:`~galaxysd.gz2.simulate.survey` writes everything to disk in the real formats.
"""

from galaxysd.gz2.simulate.survey import SIMULATOR_VERSION, SurveyFiles, simulate_survey, survey_files

__all__ = ["SIMULATOR_VERSION", "SurveyFiles", "simulate_survey", "survey_files"]
