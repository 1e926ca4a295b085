"""Call graphs people upload (`source,target` tables): who calls whom, for suspects."""
