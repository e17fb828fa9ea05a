"""Figures: what the staff dashboards and the public disclosure board show.

- `counting`: the numbers, counted by SQL over an area (the street, communities, grids, buildings);
- `snapshots`: the stored counts the pages read, refreshed by the scheduler;
- `charts`: the SVG bar charts and the number formats the pages share;
- `reports`: the trend charts and CSV files built from one set of figures.
"""
