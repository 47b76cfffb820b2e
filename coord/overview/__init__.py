"""The cross-département views: the list of départements with their counts and one département's
overview (committees, pilot sites, partners). It reads other domains' tables and owns none."""
