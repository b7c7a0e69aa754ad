"""Small kits every feature builds on, below all of them (they import no feature):

``registry``   where pages, API routes, commands and jobs find the app's collaborators
               (built by the composition root, ``app.services``)
``web``        page helpers: the acting user, role checks, running one service per form
``api``        JSON API helpers: bearer-token authentication, one service call per
               request, cursor pages, problem models, the OpenAPI document
``ratelimit``  the login and API rate limits on one shared store
``exports``    the export registry (tables and file formats) and the one CSV writer
``downloads``  file responses
"""
