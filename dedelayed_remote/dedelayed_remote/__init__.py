"""Cloud side of Dedelayed: the remote predictive model server that turns each robot's
newest K uplinked frames and its reported delay into FeatureMap messages."""
