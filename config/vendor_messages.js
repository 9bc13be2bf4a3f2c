// Messages of Django admin's widgets that its Vietnamese catalogue lacks. Never loaded: it exists so that
// `makemessages -d djangojs` keeps them in locale/vi/LC_MESSAGES/djangojs.po.
gettext('Choose %s by selecting them and then select the "Choose" arrow button.');
gettext('Choose all %s');
gettext('Choose selected %s');
gettext('Remove selected %s');
gettext('Remove %s by selecting them and then select the "Remove" arrow button.');
gettext('Type into this box to filter down the list of selected %s.');
gettext('(click to clear)');
gettext('Remove all %s');
ngettext('%s selected option not visible', '%s selected options not visible', 1);
gettext('Sunday');
gettext('Monday');
gettext('Tuesday');
gettext('Wednesday');
gettext('Thursday');
gettext('Friday');
gettext('Saturday');
pgettext("abbrev. day Sunday", 'Sun');
pgettext("abbrev. day Monday", 'Mon');
pgettext("abbrev. day Tuesday", 'Tue');
pgettext("abbrev. day Wednesday", 'Wed');
pgettext("abbrev. day Thursday", 'Thur');
pgettext("abbrev. day Friday", 'Fri');
pgettext("abbrev. day Saturday", 'Sat');
