"""Regional submissions: the Excel template each région fills in each annual campaign of the 2014 indicators."""
